// Test support: a Podman of the test's own and a local base image, so an
// image build needs no registry and touches neither /etc nor the default store.
// The private config is testkit's writePodmanConf (as the cli's Podman tests
// use), without CNI plugin dirs: containers here run in a netns given by
// path (--network ns:PATH).
// Known side effect, as there: `podman import` as root records blob digests
// in /var/lib/containers/cache (no setting for its place in Podman 4.3).
import { copyFileSync, mkdirSync, readdirSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { sh, writePodmanConf } from '@tapwire/testkit';

export interface PrivatePodman {
  readonly dir: string;
  /** Runs podman with the private config (input on its stdin); throws (with its stderr) on failure. */
  readonly podman: (args: readonly string[], input?: string) => Promise<string>;
}

/**
 * A Podman whose every container and image is removed on teardown, then its
 * storage and config (under dir, a directory the caller's teardown removes too).
 */
export const privatePodman = (t: ExecutionContext, dir: string): PrivatePodman => {
  const conf = writePodmanConf(dir);
  // env(1) sets the two variables for podman alone: argv, no shell.
  const podman = (args: readonly string[], input?: string): Promise<string> =>
    sh(['env', `CONTAINERS_CONF=${conf.CONTAINERS_CONF}`, `CONTAINERS_STORAGE_CONF=${conf.CONTAINERS_STORAGE_CONF}`, 'podman', ...args], input);
  t.teardown(async () => {
    for (const args of [['rm', '--all', '--force', '--time', '0'], ['rmi', '--all', '--force']]) {
      await podman(args).catch((e: unknown) => t.log(`teardown: podman ${args.join(' ')}: ${(e as Error).message}`));
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, podman };
};

/** The shared libraries ldd lists for a file (absolute paths, the loader included). */
const librariesOf = async (file: string): Promise<readonly string[]> =>
  (await sh(['ldd', file])).split('\n').flatMap((line) => {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    return m?.[1] === undefined ? [] : [m[1]];
  });

const copyAt = (rootfs: string, path: string): void => {
  mkdirSync(join(rootfs, dirname(path)), { recursive: true });
  copyFileSync(path, join(rootfs, path)); // follows symlinks: the library itself under the name ldd gave
};

export const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'cp', 'mv', 'rm', 'chmod', 'ls', 'cat', 'mkdir', 'sleep', 'env', 'test'];

/**
 * Imports a base playing the Debian-slim Node image: the given executables
 * (node, ip, nsenter) and every library ldd lists for them and for `alsoLibsOf`
 * (native modules the image will add), busybox-static for sh and coreutils,
 * /tmp, and /var/run -> /run.
 */
export const importBase = async (p: PrivatePodman, tag: string, executables: readonly string[], alsoLibsOf: readonly string[]): Promise<void> => {
  const rootfs = join(p.dir, 'base-rootfs');
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  const libs = new Set<string>();
  for (const f of [...executables, ...alsoLibsOf]) for (const l of await librariesOf(f)) libs.add(l);
  for (const f of [...executables, ...libs]) copyAt(rootfs, f);
  copyAt(rootfs, BUSYBOX);
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  mkdirSync(join(rootfs, 'usr', 'bin'), { recursive: true });
  symlinkSync('/bin/busybox', join(rootfs, 'usr', 'bin', 'env'));
  // As Debian: /var/run is /run (runtimes pass CNI_NETNS=/var/run/netns/NAME).
  mkdirSync(join(rootfs, 'run'), { recursive: true });
  mkdirSync(join(rootfs, 'var'), { recursive: true });
  symlinkSync('../run', join(rootfs, 'var', 'run'));
  const tar = join(p.dir, 'base-rootfs.tar');
  await sh(['tar', '-C', rootfs, '-cf', tar, '.']);
  rmSync(rootfs, { recursive: true, force: true });
  await p.podman(['import', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', tar, tag]);
  rmSync(tar, { force: true });
};

/** Every file under dir whose name ends with suffix. */
export const filesEndingWith = (dir: string, suffix: string): readonly string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && e.name.endsWith(suffix)).map((e) => join(e.parentPath, e.name));
