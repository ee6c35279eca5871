// Test support: a Podman of the test's own - its containers.conf (CNI
// backend, runc, our plugin dir + /usr/lib/cni, a network config dir in the
// temp dir), its storage (vfs under the temp dir, via CONTAINERS_STORAGE_CONF)
// and an image imported from a busybox-static rootfs - and the teardown that
// removes every container, network, netns, link and lease it made, also when
// the test fails. Nothing here touches /etc or the default store.
//
// Known side effect: `podman import` as root records blob digests in
// containers/image's shared cache /var/lib/containers/cache (Podman 4.3 has
// no setting for its place); it holds no image, container or network state.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa } from 'execa';
import { uniqueName, writePodmanConf } from '@tapwire/testkit';

export const REFERENCE_DIR = '/usr/lib/cni';
/** libcni's result cache (Podman 4.3 does not move it); DEL removes our entries, teardown any left. */
export const LIBCNI_CACHE = '/var/lib/cni/results';
export const IMAGE = 'localhost/tapwire-busybox:latest';
const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'sleep', 'ip', 'ping', 'cat', 'ls'];

export interface PodmanRun {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Container {
  readonly id: string;
  readonly pid: number;
  /** The netns Podman made for it (/run/netns/netns-...). */
  readonly netns: string;
}

export interface PodmanEnv {
  readonly dir: string;
  /** host-local's dataDir for this env's networks. */
  readonly ipamDir: string;
  readonly podman: (args: readonly string[]) => Promise<PodmanRun>;
  /** Writes NAME.conflist into the env's network config dir; `top` are its version fields (default cniVersion 1.0.0: libcni 1.1 refuses 1.1.0 results). */
  readonly addNetwork: (plugins: readonly Record<string, unknown>[], top?: { readonly cniVersion: string; readonly cniVersions?: readonly string[] }) => string;
  readonly run: (network: string) => Promise<Container>;
  /** The result libcni cached for the container on the network (what the runtime got from ADD). */
  readonly cachedResult: (network: string, id: string) => Record<string, unknown> | undefined;
}

/** A tar of a rootfs holding busybox-static and a few applet links. */
const busyboxTar = async (dir: string): Promise<string> => {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  const tar = join(dir, 'rootfs.tar');
  await execa('tar', ['-C', rootfs, '-cf', tar, '.']);
  return tar;
};

const hostLinks = async (): Promise<string[]> =>
  (JSON.parse((await execa('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[]).map((l) => l.ifname);

/**
 * A fresh Podman env for one test; `pluginDir` holds our bundled plugins.
 * Teardown: `podman rm -af` (DEL for every container), then whatever a
 * failure may have left - its containers' netns, the bridges named in its
 * conflists, libcni cache entries of its networks - then the temp dir
 * (storage, leases, configs).
 */
export const podmanEnv = async (t: ExecutionContext, pluginDir: string): Promise<PodmanEnv> => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-podman-'));
  mkdirSync(join(dir, 'ipam'));
  const env = { ...process.env, ...writePodmanConf(dir, { cniPluginDirs: [pluginDir, REFERENCE_DIR] }) };
  const podman = async (args: readonly string[]): Promise<PodmanRun> => {
    const r = await execa('podman', [...args], { env, reject: false, timeout: 120_000 });
    return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  const networks: string[] = [];
  const bridges: string[] = [];
  const sandboxes: string[] = [];
  t.teardown(async () => {
    await podman(['rm', '--all', '--force', '--time', '0']);
    // Podman removes a container's netns on rm; one left by a crashed podman goes here.
    for (const ns of sandboxes) if (existsSync(ns)) await execa('ip', ['netns', 'del', basename(ns)], { reject: false });
    for (const b of bridges) await execa('ip', ['link', 'del', b], { reject: false });
    if (existsSync(LIBCNI_CACHE)) {
      for (const f of readdirSync(LIBCNI_CACHE)) if (networks.some((n) => f.startsWith(`${n}-`))) rmSync(join(LIBCNI_CACHE, f), { force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const imported = await podman(['import', await busyboxTar(dir), IMAGE]);
  if (imported.exitCode !== 0) throw new Error(`podman import failed: ${imported.stderr}`);

  const addNetwork: PodmanEnv['addNetwork'] = (plugins, top = { cniVersion: '1.0.0' }) => {
    const name = uniqueName('twp');
    networks.push(name);
    for (const p of plugins) if (p['type'] === 'bridge' && typeof p['bridge'] === 'string') bridges.push(p['bridge']);
    writeFileSync(join(dir, 'net.d', `${name}.conflist`), JSON.stringify({ ...top, name, plugins }, null, 2));
    return name;
  };
  const run = async (network: string): Promise<Container> => {
    const r = await podman(['run', '--detach', '--network', network, IMAGE, 'sleep', '3600']);
    if (r.exitCode !== 0) throw new Error(`podman run --network ${network} failed: ${r.stderr}`);
    const id = r.stdout.trim().split('\n').pop() ?? '';
    const state = await podman(['inspect', '--format', '{{.State.Pid}} {{.NetworkSettings.SandboxKey}}', id]);
    const [pid, netns] = state.stdout.trim().split(' ');
    if (netns !== undefined && netns !== '') sandboxes.push(netns);
    return { id, pid: Number(pid), netns: netns ?? '' };
  };
  const cachedResult = (network: string, id: string): Record<string, unknown> | undefined => {
    const file = join(LIBCNI_CACHE, `${network}-${id}-eth0`);
    if (!existsSync(file)) return undefined;
    return (JSON.parse(readFileSync(file, 'utf8')) as { result?: Record<string, unknown> }).result;
  };
  return { dir, ipamDir: join(dir, 'ipam'), podman, addNetwork, run, cachedResult };
};

export const hostLocal = (dataDir: string, subnet: string): Record<string, unknown> => ({
  type: 'host-local',
  dataDir,
  ranges: [[{ subnet }]],
  routes: [{ dst: '0.0.0.0/0' }],
});

/** host-local keeps one file per leased IP next to lock and last_reserved_ip.N. */
export const leases = (dataDir: string): string[] =>
  existsSync(dataDir)
    ? readdirSync(dataDir, { withFileTypes: true }).flatMap((net) =>
        net.isDirectory() ? readdirSync(join(dataDir, net.name)).filter((f) => f !== 'lock' && !f.startsWith('last_reserved_ip')).map((f) => `${net.name}/${f}`) : [],
      )
    : [];

export { hostLinks };
