// The CLI as one bundled file (bin/build-bundle.mjs -> dist/tapwire.cjs, run
// by bin/tapwire.js): it answers --help and inspect like the compiled
// modules, and a verb evaluates its own modules only - inspect never execa,
// the VM launcher, the pod rig or the device plugin. Built into a temp dir
// with a copy of the bin, so the checkout's own bundle is left alone.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { makeNetns, requireRoot } from '@tapwire/testkit';
import { captureOutput } from './capture.js';
import { COMMANDS, runCli } from './main.js';

const CLI = fileURLToPath(new URL('../', import.meta.url));
let dir = '';

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-cli-bundle-'));
  mkdirSync(join(dir, 'bin'));
  for (const f of ['tapwire.js', 'package.json']) copyFileSync(join(CLI, 'bin', f), join(dir, 'bin', f));
  const b = spawnSync(process.execPath, [join(CLI, 'bin', 'build-bundle.mjs'), join(dir, 'dist', 'tapwire.cjs')], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build-bundle failed: ${b.stderr}`);
  // The compiled modules the bin falls back to (node follows the link to the checkout's dist).
  symlinkSync(join(CLI, 'dist', 'main.js'), join(dir, 'dist', 'main.js'));
});
test.after.always(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly modules: readonly string[];
}

/** Runs the temp copy's bin; TAPWIRE_BUNDLE=1 unless `env` says otherwise (others may recompile while this runs). */
const tapwire = (args: readonly string[], env: Record<string, string> = { TAPWIRE_BUNDLE: '1' }): Ran => {
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'tapwire.js'), ...args], { encoding: 'utf8', env: { ...process.env, TAPWIRE_TRACE_MODULES: '1', ...env } });
  const line = r.stderr.split('\n').find((l) => l.startsWith('tapwire-modules '));
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr.split('\n').filter((l) => !l.startsWith('tapwire-modules ')).join('\n'),
    modules: line === undefined ? [] : (JSON.parse(line.slice('tapwire-modules '.length)) as string[]),
  };
};

/** Modules no inspect may evaluate: process machinery and other verbs' worlds. */
const FOREIGN = [/\/execa\//, /packages\/qemu\//, /packages\/pod\//, /packages\/device-plugin\//, /grpc|protobufjs|\/yaml\//, /esbuild/, /packages\/cli\/dist\/commands\/(?!inspect|verb-args)/];

test('every verb\'s usage line in the table is the first line of its own --help', async (t) => {
  for (const [verb, entry] of Object.entries(COMMANDS)) {
    const m = await entry.load();
    t.is(entry.usage, m.help.split('\n')[0] ?? '', verb);
  }
});

test('bundled --help lists every verb and evaluates no command module', (t) => {
  const r = tapwire(['--help']);
  t.is(r.code, 0, r.stderr);
  for (const entry of Object.values(COMMANDS)) t.true(r.stdout.includes(entry.usage), entry.usage);
  t.true(r.modules.length > 0, 'the bundle reports what it evaluated');
  t.deepEqual(r.modules.filter((m) => /packages\/(?!cli\/dist\/(main|output)\.js)/.test(m)), []);
});

test('bundled inspect --help prints inspect\'s help', (t) => {
  const r = tapwire(['inspect', '--help']);
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.startsWith('tapwire inspect <netns>'));
});

test('bundled inspect of a netns: the same report as the compiled CLI, without execa or any other verb\'s modules', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t, 'twbun');
  const r = tapwire(['inspect', ns.name, '--json']);
  t.is(r.code, 0, r.stderr);
  const bundled = JSON.parse(r.stdout) as { name: string }[];
  t.is(bundled.length, 1, 'a fresh netns has its loopback only');
  const io = captureOutput();
  t.is(await runCli(['inspect', ns.name, '--json'], io), 0);
  t.deepEqual(bundled, JSON.parse(io.stdout()));
  t.true(r.modules.some((m) => m.endsWith('packages/cli/dist/commands/inspect.js')));
  // Whatever spawns (if anything: the scan may be in-process) goes through the small shim, never execa itself.
  t.deepEqual(r.modules.filter((m) => FOREIGN.some((f) => f.test(m))), []);
  t.log(`inspect evaluated ${r.modules.length} modules`);
});

test('bundled unknown verb: exit 2 and the help', (t) => {
  const r = tapwire(['frobnicate']);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown command "frobnicate"/);
});

test.serial('a bundle whose inputs changed, were all missing or were never listed is not run (the compiled modules are); one only touched still is', (t) => {
  const inputs = join(dir, 'dist', 'tapwire.cjs.inputs');
  const saved = readFileSync(inputs, 'utf8');
  t.teardown(() => writeFileSync(inputs, saved));
  const probe = join(dir, 'probe.js');
  writeFileSync(probe, 'export {};\n');
  const hash = createHash('sha256').update(readFileSync(probe)).digest('hex');
  const auto = { TAPWIRE_BUNDLE: '' };
  // Recorded with an older mtime, same content: a re-emit, still current.
  writeFileSync(inputs, JSON.stringify([[probe, 1, hash]]));
  t.true(tapwire(['--help'], auto).modules.length > 0, 'touched only: the bundle runs');
  // Different content: stale, the compiled modules answer (and trace nothing).
  writeFileSync(inputs, JSON.stringify([[probe, 1, '0'.repeat(64)]]));
  const stale = tapwire(['--help'], auto);
  t.is(stale.code, 0, stale.stderr);
  t.deepEqual(stale.modules, []);
  t.true(stale.stdout.includes('usage: tapwire'));
  // Built elsewhere (every input missing here) or without its list: not run either.
  writeFileSync(inputs, JSON.stringify([[join(dir, 'no-such-input.js'), 1, hash]]));
  t.deepEqual(tapwire(['--help'], auto).modules, []);
  rmSync(inputs);
  t.deepEqual(tapwire(['--help'], auto).modules, []);
  utimesSync(probe, new Date(), new Date());
  t.deepEqual(tapwire(['--help'], { TAPWIRE_BUNDLE: '1' }).modules.length > 0, true, 'TAPWIRE_BUNDLE=1 runs it anyway');
});
