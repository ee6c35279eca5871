// koffi is loaded by the first native call, not by importing: a child node
// records every native module it opens (process.dlopen) while it imports the
// ffi layer and uses its pure parts, then makes one syscall.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { sh } from '@tapwire/testkit';

const FFI = join(fileURLToPath(new URL('.', import.meta.url)), 'index.js');
const KOFFI = join(fileURLToPath(new URL('.', import.meta.url)), 'koffi.js');

const child = `
const opened = [];
const dlopen = process.dlopen;
process.dlopen = (m, file, ...rest) => { opened.push(file); return dlopen(m, file, ...rest); };
const ffi = await import(${JSON.stringify(FFI)});
const { koffiLoaded } = await import(${JSON.stringify(KOFFI)});
const pure = ffi.encodeLinkName('net1')._tag;
const before = { loaded: koffiLoaded(), natives: opened.length };
const syscall = ffi.nsTypeOfFd(0)._tag;
process.stdout.write(JSON.stringify({ pure, before, after: { loaded: koffiLoaded(), koffi: opened.some((f) => f.includes('koffi')) }, syscall }));
`;

test('importing the ffi layer and encoding a link name load no native module; the first syscall loads koffi', async (t) => {
  const r = JSON.parse(await sh([process.execPath, '--input-type=module', '-e', child])) as Record<string, unknown>;
  t.like(r, { pure: 'Right', before: { loaded: false, natives: 0 }, syscall: 'Right', after: { loaded: true, koffi: true } });
});
