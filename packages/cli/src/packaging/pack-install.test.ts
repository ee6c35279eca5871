// The packages as someone outside this repository gets them: `pnpm pack` every
// publishable package, check what each tarball holds, `npm install` the
// tarballs into a scratch project outside the workspace (no workspace links),
// then run the README's runtime example against a real netns and the CLI.
// Slow: npm fetches the third-party dependencies (koffi, esbuild, grpc, ...)
// into a cache kept under .cache/npm, so only the first run downloads them.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import { ciStrict, makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'attach-and-render.mjs');
/** Test and bench support: never published. */
const PRIVATE = ['testkit', 'bench'];
/** What a runtime needs at least (the example's imports) and the CLI. */
const MUST_PUBLISH = ['sys', 'endpoints', 'netmodel', 'qemu', 'cni', 'cli'];
const INSTALL_TIMEOUT_MS = 150_000;

interface Manifest {
  readonly name: string;
  readonly private?: boolean;
  readonly license?: string;
  readonly exports?: Record<string, unknown>;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const packageDirs = (): string[] => readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json')));
const publishable = (): string[] => packageDirs().filter((d) => readJson<Manifest>(join(ROOT, 'packages', d, 'package.json')).private !== true);

/** One temp dir for the whole file (tarballs, unpacked copies, the scratch project), removed after. */
const work = mkdtempSync(join(tmpdir(), 'tapwire-pack-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

const once = <T>(f: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
};

interface Packed {
  readonly dir: string;
  readonly tarball: string;
  /** Where the tarball was unpacked (its `package/`). */
  readonly unpacked: string;
  readonly entries: readonly string[];
  readonly manifest: Manifest;
}

const packAll = once(async (): Promise<{ packed: Packed[]; ms: number }> => {
  const start = Date.now();
  const dest = join(work, 'tarballs');
  mkdirSync(dest);
  const packed: Packed[] = [];
  for (const dir of publishable()) {
    const before = new Set(readdirSync(dest));
    await execa('pnpm', ['pack', '--pack-destination', dest], { cwd: join(ROOT, 'packages', dir) });
    const made = readdirSync(dest).filter((f) => !before.has(f));
    if (made.length !== 1 || made[0] === undefined) throw new Error(`pnpm pack in packages/${dir} made ${JSON.stringify(made)}, expected one tarball`);
    const tarball = join(dest, made[0]);
    const entries = (await sh(['tar', '-tzf', tarball])).split('\n').filter((l) => l !== '');
    const unpacked = join(work, 'unpacked', dir);
    mkdirSync(unpacked, { recursive: true });
    await sh(['tar', '-xzf', tarball, '-C', unpacked]);
    packed.push({ dir, tarball, unpacked: join(unpacked, 'package'), entries, manifest: readJson<Manifest>(join(unpacked, 'package', 'package.json')) });
  }
  return { packed, ms: Date.now() - start };
});

/** Bare module names a shipped file imports (static and dynamic, .js and .d.ts). */
const bareImports = (text: string): string[] =>
  [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"./][^'"]*)['"]/g)]
    .map((m) => m[1] ?? '')
    .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] ?? s)));

test.serial('publishable packages: all but the test and bench support', (t) => {
  const pub = publishable();
  for (const d of PRIVATE) t.false(pub.includes(d), `${d} must stay private`);
  for (const d of MUST_PUBLISH) t.true(pub.includes(d), `${d} must be publishable`);
});

test.serial('each tarball holds the built code, README, LICENSE and manifest only: no tests, testing helpers, src, maps or tsbuildinfo', async (t) => {
  if (!requireCommand(t, 'pnpm')) return;
  const { packed, ms } = await packAll();
  t.log(`packed ${packed.length} packages in ${ms} ms`);
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  for (const p of packed) {
    const files = p.entries.map((e) => e.replace(/^package\//, ''));
    const banned = files.filter((f) => /\.test\.|(^|\/)testing([./-]|$)|^src\/|\.tsbuildinfo$|\.map$|(^|\/)robustness\/|(^|\/)podman\//.test(f));
    t.deepEqual(banned, [], `${p.dir}: files that must not ship`);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) t.true(files.includes(f), `${p.dir}: ${f} missing`);
    t.is(readFileSync(join(p.unpacked, 'LICENSE'), 'utf8'), license, `${p.dir}: LICENSE is not the root's`);
    // A .js left in dist by a deleted source would ship too: each needs its source.
    const stale = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js')).filter((f) => !existsSync(join(ROOT, 'packages', p.dir, f.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'))));
    t.deepEqual(stale, [], `${p.dir}: built files without a source (rebuild from a clean dist)`);
    // A path into this checkout (e.g. a bundle's baked-in koffi) resolves here and on no user's machine.
    const checkoutPaths = files.filter((f) => readFileSync(join(p.unpacked, f)).includes(ROOT));
    t.deepEqual(checkoutPaths, [], `${p.dir}: files naming ${ROOT}`);

    const m = p.manifest;
    t.is(m.license, 'Apache-2.0', p.dir);
    t.is(m.private, undefined, p.dir);
    t.false(JSON.stringify(m).includes('workspace:'), `${p.dir}: workspace: specifiers left in the manifest`);
    t.deepEqual(Object.keys(m.exports ?? {}), ['.'], `${p.dir}: only the main entry is exported`);
    // Everything a shipped file imports must be a dependency or a peer.
    const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
    const undeclared = new Set<string>();
    for (const f of files.filter((f) => /\.(js|d\.ts)$/.test(f))) {
      for (const name of bareImports(readFileSync(join(p.unpacked, f), 'utf8'))) if (!declared.has(name) && name !== m.name) undeclared.add(`${name} (${f})`);
    }
    t.deepEqual([...undeclared], [], `${p.dir}: imports that are not dependencies`);
    // Types cross the boundary: the user's fp-ts must be the one in our signatures.
    if (p.dir !== 'cli') t.truthy(m.peerDependencies?.['fp-ts'], `${p.dir}: fp-ts is a peer dependency`);
  }
  // The runtime example ships in @tapwire/qemu's README exactly as the tested file.
  const qemu = packed.find((p) => p.dir === 'qemu');
  t.true(qemu !== undefined && readFileSync(join(qemu.unpacked, 'README.md'), 'utf8').includes(readFileSync(EXAMPLE, 'utf8')), 'qemu README carries examples/attach-and-render.mjs');
});

/** A TypeScript consumer of the published declarations: our types in the user's fp-ts. */
const CONSUMER_TYPES = `
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { resolveNetns, type NetnsHandle, type SysError } from '@tapwire/sys';
import { scan, type ScanError } from '@tapwire/endpoints';
import { attachAll, type NetmodelError } from '@tapwire/netmodel';
import { renderNicArgs, type ArgsError } from '@tapwire/qemu';
import { decodeConfig } from '@tapwire/cni';
import { runCli } from '@tapwire/cli';
const ns: E.Either<SysError, NetnsHandle> = resolveNetns('x');
const s: (n: NetnsHandle) => TE.TaskEither<ScanError, unknown> = scan;
const a: typeof attachAll = attachAll;
const r: (nics: []) => E.Either<ArgsError, string[]> = (nics) => renderNicArgs(nics, 'tcg');
export const used = [ns, s, a, r, decodeConfig, runCli, undefined as NetmodelError | undefined];
`;

const install = once(async (): Promise<{ dir: string; ms: number }> => {
  const { packed } = await packAll();
  const start = Date.now();
  const dir = join(work, 'scratch');
  mkdirSync(dir);
  const tarballs = Object.fromEntries(packed.map((p) => [p.manifest.name, `file:${p.tarball}`]));
  const sys = readJson<Manifest>(join(ROOT, 'packages', 'sys', 'package.json'));
  const endpoints = readJson<Manifest>(join(ROOT, 'packages', 'endpoints', 'package.json'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'tapwire-scratch',
      private: true,
      type: 'module',
      // A runtime brings its own fp-ts and io-ts (the peers our types use).
      dependencies: { ...tarballs, 'fp-ts': sys.peerDependencies?.['fp-ts'], 'io-ts': endpoints.peerDependencies?.['io-ts'] },
      // Our packages depend on each other by version: take those from the tarballs too, never the registry.
      overrides: tarballs,
    }),
  );
  await execa('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', '--cache', join(ROOT, '.cache', 'npm')], {
    cwd: dir,
    timeout: INSTALL_TIMEOUT_MS,
    env: { npm_config_update_notifier: 'false' },
  });
  return { dir, ms: Date.now() - start };
});

test.serial('the tarballs install into a project outside the workspace: every @tapwire package from its tarball, no dev-only package, types resolve', async (t) => {
  if (!requireCommand(t, 'pnpm') || !requireCommand(t, 'npm')) return;
  t.timeout(4 * 60_000);
  const { dir, ms } = await install();
  t.log(`npm install of the tarballs took ${ms} ms`);
  t.true(relative(ROOT, dir).startsWith('..'), 'the scratch project is outside the workspace');

  const lock = readJson<{ packages: Record<string, { resolved?: string; link?: boolean }> }>(join(dir, 'package-lock.json'));
  const ours = Object.entries(lock.packages).filter(([path]) => /node_modules\/@tapwire\//.test(path));
  t.true(ours.length >= MUST_PUBLISH.length);
  for (const [path, entry] of ours) {
    t.not(entry.link, true, `${path} is a link`);
    t.regex(entry.resolved ?? '', /^file:.*\.tgz$/, `${path} did not come from our tarball`);
    t.false(path.includes('/node_modules/@tapwire/testkit'), 'testkit (test support) was installed');
  }
  for (const devOnly of ['ava', 'fast-check', 'typescript', '@tapwire/testkit']) t.false(existsSync(join(dir, 'node_modules', devOnly)), `${devOnly} was installed`);

  // A TypeScript user compiles against the published declarations (the workspace's tsc, the scratch project's node_modules).
  writeFileSync(join(dir, 'check.ts'), CONSUMER_TYPES);
  const tsc = await execa(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node', 'check.ts'],
    { cwd: dir, reject: false },
  );
  t.is(tsc.exitCode, 0, tsc.stdout);
});

test.serial("the README's runtime example runs from the install against a real netns and leaves it as found", async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'pnpm') || !requireCommand(t, 'npm')) return;
  t.timeout(4 * 60_000);
  const { dir } = await install();
  const pod = await makeNetns(t, 'twpkp');
  const peer = await makeNetns(t, 'twpkq');
  await sh(['ip', 'link', 'add', 'eth0', 'netns', pod.name, 'type', 'veth', 'peer', 'name', 'p0', 'netns', peer.name]);
  await sh(['ip', '-n', pod.name, 'addr', 'add', '10.78.0.2/24', 'dev', 'eth0']);
  await sh(['ip', '-n', pod.name, 'link', 'set', 'eth0', 'up']);
  const before = [await sh(['ip', '-n', pod.name, '-d', 'link']), await sh(['tc', '-n', pod.name, 'qdisc'])];

  copyFileSync(EXAMPLE, join(dir, 'attach-and-render.mjs'));
  const start = Date.now();
  const run = await execa(process.execPath, ['attach-and-render.mjs', pod.name], { cwd: dir, reject: false });
  t.log(`example ran in ${Date.now() - start} ms`);
  t.is(run.exitCode, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { attachments: { link: string; model: string; queues: number }[]; fds: number; args: string[] };
  t.deepEqual(
    out.attachments.map((a) => [a.link, a.model, a.queues]),
    [['eth0', 'tcfilter', 2]],
  );
  t.is(out.fds, 2);
  t.true(out.args.some((a) => /^tap,id=net0,fds=3:4,vhost=off$/.test(a)), out.args.join(' '));
  t.deepEqual([await sh(['ip', '-n', pod.name, '-d', 'link']), await sh(['tc', '-n', pod.name, 'qdisc'])], before, 'the netns is as it was');
});

const CLI_BUNDLE = join(ROOT, 'packages', 'cli', 'dist', 'tapwire.cjs');

test.serial('the CLI ships its bundle (not the build-checkout inputs list or code cache) and the installed bin runs it', async (t) => {
  if (!requireCommand(t, 'pnpm') || !requireCommand(t, 'npm')) return;
  // `pnpm build` (the setup script runs it) makes the bundle; `tsc -b` alone does not.
  if (!existsSync(CLI_BUNDLE)) {
    if (ciStrict()) return t.fail(`${CLI_BUNDLE} is missing: the setup script's pnpm build makes it`);
    t.log('SKIPPED: no bundle built (pnpm build)');
    return t.pass();
  }
  t.timeout(4 * 60_000);
  const { packed } = await packAll();
  const cli = packed.find((p) => p.dir === 'cli');
  const files = cli?.entries.map((e) => e.replace(/^package\//, '')) ?? [];
  t.true(files.includes('dist/tapwire.cjs'), 'dist/tapwire.cjs is in the tarball');
  t.deepEqual(files.filter((f) => f.startsWith('dist/tapwire.cjs.')), [], 'no inputs list or code cache of the build checkout');
  const { dir } = await install();
  // TAPWIRE_TRACE_MODULES=1 makes the bundle (only the bundle) list the modules it evaluated on exit.
  const help = await execa('npx', ['--no', '--', 'tapwire', '--help'], { cwd: dir, reject: false, env: { TAPWIRE_TRACE_MODULES: '1' } });
  t.is(help.exitCode, 0, help.stderr);
  t.regex(help.stderr, /^tapwire-modules \[/m, 'the installed bin ran the bundle');
});

test.serial('the installed CLI runs: npx tapwire --help, inspect (koffi FFI) and cni install (esbuild)', async (t) => {
  if (!requireCommand(t, 'pnpm') || !requireCommand(t, 'npm')) return;
  t.timeout(4 * 60_000);
  const { dir } = await install();
  const help = await execa('npx', ['--no', '--', 'tapwire', '--help'], { cwd: dir, reject: false });
  t.is(help.exitCode, 0, help.stderr);
  t.regex(help.stdout, /tapwire/);
  t.regex(help.stdout, /attach/);

  if (!requireRoot(t)) return;
  const pod = await makeNetns(t, 'twpkc');
  const inspect = await execa('npx', ['--no', '--', 'tapwire', 'inspect', pod.name, '--json'], { cwd: dir, reject: false });
  t.is(inspect.exitCode, 0, inspect.stderr);
  t.regex(inspect.stdout, /"lo"/);
  const plugins = join(work, 'cni-bin');
  const cni = await execa('npx', ['--no', '--', 'tapwire', 'cni', 'install', '--dir', plugins], { cwd: dir, reject: false });
  t.is(cni.exitCode, 0, cni.stderr);
  t.deepEqual(readdirSync(plugins).sort(), ['macvtap', 'tap', 'tapwire-lib', 'tc-redirect-tap']);
  // A plugin written from the npm install answers libcni's VERSION probe (dummy values as libcni sends them).
  const version = await execa(join(plugins, 'tap'), [], {
    env: { CNI_COMMAND: 'VERSION', CNI_NETNS: 'dummy', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' },
    input: '{"cniVersion":"1.0.0"}',
    reject: false,
  });
  t.is(version.exitCode, 0, version.stderr);
  t.regex(version.stdout, /"supportedVersions"/);
});
