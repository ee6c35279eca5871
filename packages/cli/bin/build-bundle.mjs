#!/usr/bin/env node
// Builds dist/tapwire.cjs, the file bin/tapwire.js runs: the CLI in one
// CommonJS file (after `tsc -b`: it bundles the compiled dist/). qemu and pod
// keep the real execa (a VM spawn uses more of it than the shim has); they are
// reached only by the verbs that launch, so no other verb evaluates execa.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleExecutable } from '@tapwire/cni';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = `
import { runCli } from './main.js';
runCli(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { process.stderr.write('tapwire: internal error: ' + (e instanceof Error ? (e.stack ?? e.message) : String(e)) + '\\n'); process.exitCode = 70; },
);
`;

const out = process.argv[2] ?? join(CLI, 'dist', 'tapwire.cjs');
// Nothing of an older build may vouch for the new bundle.
for (const f of [`${out}.inputs`, `${out}.cache`]) rmSync(f, { force: true });
const b = await bundleExecutable({
  entry: { contents: ENTRY, resolveDir: join(CLI, 'dist') },
  outfile: out,
  title: 'tapwire CLI',
  realExeca: (importer) => /\/packages\/(qemu|pod)\//.test(importer),
  trace: { root: resolve(CLI, '..', '..') },
});
// The files it was built from: bin/tapwire.js runs the compiled modules instead once one is newer.
// Each as [path, mtimeMs, sha256]: a re-emit with the same content (tsc -b of a dependent) keeps the bundle.
const inputs = b.ownInputs.map((file) => [file, statSync(file).mtimeMs, createHash('sha256').update(readFileSync(file)).digest('hex')]);
writeFileSync(`${out}.inputs`, `${JSON.stringify(inputs)}\n`);
// A fresh V8 code cache for the new bundle (bin/tapwire.js reads it), made by one `--help` run.
if (process.argv[2] === undefined) {
  spawnSync(process.execPath, [join(CLI, 'bin', 'tapwire.js'), '--help'], { stdio: 'ignore', env: { ...process.env, TAPWIRE_WRITE_CODE_CACHE: '1' } });
}
process.stderr.write(`tapwire: bundled ${b.file} (${b.bytes} bytes)\n`);
