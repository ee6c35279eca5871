#!/usr/bin/env node
// Builds dist/tapwire.cjs, the file bin/tapwire.js runs: the CLI in one
// CommonJS file (after `tsc -b`: it bundles the compiled dist/). qemu and pod
// keep the real execa (a VM spawn uses more of it than the shim has); they are
// reached only by the verbs that launch, so no other verb evaluates execa.
// The bundle names nothing of this checkout: koffi and the files next to a
// module are found from the bundle's own directory (@tapwire/cni's
// bundle-runtime.ts), i.e. in packages/cli/dist through the workspace's
// node_modules, in node_modules/@tapwire/cli/dist through the install's. A
// bundle written elsewhere (an OUT argument) gets tapwire-lib/ (koffi) beside it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleExecutable, stageLib } from '@tapwire/cni';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(CLI, '..', '..');
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
  trace: { root: ROOT },
});
if (readFileSync(b.file).includes(`${ROOT}/`)) {
  rmSync(b.file, { force: true });
  throw new Error(`${b.file} names this checkout (${ROOT}): a module's path was baked in`);
}
if (process.argv[2] !== undefined) stageLib(dirname(out));
// The files it was built from: bin/tapwire.js runs the compiled modules instead once one is newer.
// Each as [path, mtimeMs, sha256]: a re-emit with the same content (tsc -b of a dependent) keeps the bundle.
const inputs = b.ownInputs.map((file) => [file, statSync(file).mtimeMs, createHash('sha256').update(readFileSync(file)).digest('hex')]);
writeFileSync(`${out}.inputs`, `${JSON.stringify(inputs)}\n`);
// A fresh V8 code cache for the new bundle (bin/tapwire.js reads it), made by one `--help` run.
if (process.argv[2] === undefined) {
  spawnSync(process.execPath, [join(CLI, 'bin', 'tapwire.js'), '--help'], { stdio: 'ignore', env: { ...process.env, TAPWIRE_WRITE_CODE_CACHE: '1' } });
}
process.stderr.write(`tapwire: bundled ${b.file} (${b.bytes} bytes)\n`);
