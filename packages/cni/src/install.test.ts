// `tapwire cni install --dir`: the directory is the whole install. Copied
// away from this checkout and run with the checkout masked (a private mount
// namespace with an empty tmpfs over it), the plugins answer VERSION and the
// tap plugin does ADD, CHECK and DEL with Debian's host-local for IPAM in a
// throwaway netns. CHECK of a tap with an owner reads the owner through the
// FFI, so koffi is loaded from DIR/tapwire-lib; without that folder only it fails.
import { cpSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { installPlugins } from './install.js';
import { envOf, invocationOf, leases, REFERENCE_DIR, tempDir, type PodEnv } from './testing.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const PLUGINS = ['macvtap', 'tap', 'tc-redirect-tap'];

/** Mounts an empty tmpfs over $1 in a new mount namespace (private: nothing leaks out), then execs the rest. */
const MASK = 'mount -t tmpfs -o size=4k,mode=0755 none "$1" && shift && exec "$@"';

const masked = async (argv: readonly string[], env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, input = '') =>
  invocationOf(await execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', MASK, 'sh', REPO, ...argv], { env, extendEnv: false, input, reject: false }));

/** Installs into one temp dir, copies the result to another (nothing may depend on where it was written). */
const installedCopy = async (t: ExecutionContext): Promise<string> => {
  const first = tempDir('tapwire-cni-install-');
  const moved = tempDir('tapwire-cni-moved-');
  t.teardown(first.remove);
  t.teardown(moved.remove);
  const reports = await installPlugins(first.path);
  t.deepEqual(reports.map((r) => r.plugin).sort(), PLUGINS);
  cpSync(first.path, moved.path, { recursive: true });
  first.remove();
  t.false(moved.path.startsWith(`${REPO}/`), 'the copy is outside the checkout');
  return moved.path;
};

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));

test('the install dir: the three bundles and tapwire-lib (koffi), naming nothing of this checkout', async (t) => {
  const dir = await installedCopy(t);
  t.deepEqual(readdirSync(dir).sort(), [...PLUGINS, 'tapwire-lib'].sort());
  for (const p of PLUGINS) t.is(statSync(join(dir, p)).mode & 0o777, 0o755, p);
  const files = filesUnder(dir);
  t.true(files.some((f) => f.endsWith(`/tapwire-lib/koffi/build/koffi/${process.platform}_${process.arch}/koffi.node`)));
  for (const f of files) t.false(readFileSync(f).includes(REPO), `${f} names ${REPO}`);
  const lib = files.filter((f) => f.includes('/tapwire-lib/')).reduce((n, f) => n + statSync(f).size, 0);
  t.log(`bundles ${PLUGINS.map((p) => `${p} ${statSync(join(dir, p)).size}`).join(', ')} bytes; tapwire-lib ${lib} bytes`);
});

test('the mask hides the checkout', async (t) => {
  if (!(requireRoot(t) && requireCommand(t, 'unshare'))) return;
  t.deepEqual(await masked(['ls', '-A', REPO]), { exitCode: 0, stdout: '', stderr: '', json: undefined });
  t.not((await masked(['test', '-e', join(REPO, 'node_modules')])).exitCode, 0);
  t.true(readdirSync(REPO).includes('node_modules'), 'and only in its own mount namespace');
});

test('copied away and run with the checkout masked: VERSION from every plugin, ADD, CHECK (koffi) and DEL of tap with host-local; CHECK without tapwire-lib says where koffi was looked for, VERSION still answers', async (t) => {
  if (!(requireRoot(t) && requireCommand(t, 'unshare') && requireCommand(t, `${REFERENCE_DIR}/host-local`))) return;
  const dir = await installedCopy(t);
  for (const p of PLUGINS) {
    const start = Date.now();
    const v = await masked([join(dir, p)], { PATH: process.env['PATH'] ?? '/usr/bin:/bin', CNI_COMMAND: 'VERSION' }, '{"cniVersion": "1.0.0"}');
    t.log(`${p} VERSION ${Date.now() - start} ms (masked)`);
    t.is(v.exitCode, 0, v.stderr);
    t.true((v.json?.['supportedVersions'] as string[] | undefined)?.includes('1.0.0'), v.stdout);
  }

  const ns = await makeNetns(t, 'twins');
  const data = tempDir('tapwire-cni-ipam-');
  t.teardown(data.remove);
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'installnet',
    type: 'tap',
    owner: 0,
    group: 0,
    ipam: { type: 'host-local', dataDir: data.path, ranges: [[{ subnet: '10.213.0.0/24' }]] },
  });
  const pod: PodEnv = { containerId: `c${ns.name}`, netns: ns.path, ifname: 'net1', path: [dir, REFERENCE_DIR] };
  let start = Date.now();
  const add = await masked([join(dir, 'tap')], envOf('ADD', pod), conf);
  t.log(`tap ADD ${Date.now() - start} ms (masked)`);
  t.is(add.exitCode, 0, `${add.stdout}${add.stderr}`);
  t.like(add.json, { interfaces: [{ name: 'net1', sandbox: ns.path }], ips: [{ address: '10.213.0.2/24' }] });
  t.regex(await sh(['ip', '-n', ns.name, '-d', 'link', 'show', 'net1']), /tun type tap/);
  t.deepEqual(leases(data.path), ['installnet/10.213.0.2']);

  const withResult = JSON.stringify({ ...JSON.parse(conf), prevResult: add.json });
  start = Date.now();
  const check = await masked([join(dir, 'tap')], envOf('CHECK', pod), withResult);
  t.log(`tap CHECK ${Date.now() - start} ms (masked, loads koffi)`);
  t.deepEqual([check.exitCode, check.stdout, check.stderr], [0, '', '']);
  rmSync(join(dir, 'tapwire-lib'), { recursive: true });
  const blind = await masked([join(dir, 'tap')], envOf('CHECK', pod), withResult);
  t.is(blind.exitCode, 1);
  t.regex(String(blind.json?.['details'] ?? blind.json?.['msg']), /koffi not found: neither \S+\/tapwire-lib\/koffi\/index\.js/);
  // Only what makes a syscall needs it: VERSION never loads koffi.
  const version = await masked([join(dir, 'tap')], { PATH: process.env['PATH'] ?? '/usr/bin:/bin', CNI_COMMAND: 'VERSION' }, '{"cniVersion": "1.0.0"}');
  t.is(version.exitCode, 0, version.stderr);

  start = Date.now();
  const del = await masked([join(dir, 'tap')], envOf('DEL', pod), withResult);
  t.log(`tap DEL ${Date.now() - start} ms (masked)`);
  t.deepEqual([del.exitCode, del.stdout, del.stderr], [0, '', '']);
  t.deepEqual((JSON.parse(await sh(['ip', '-n', ns.name, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname), ['lo']);
  t.deepEqual(leases(data.path), []);
});
