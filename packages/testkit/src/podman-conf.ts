// A Podman config of the test's own, under a temp dir: containers.conf (CNI
// backend, runc, cgroupfs, file events and locks, low ulimits, a network
// config dir of its own) and storage.conf (vfs under the dir). The
// environment it returns points podman at both, so nothing touches /etc or
// the default store.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PodmanConfEnv {
  readonly CONTAINERS_CONF: string;
  readonly CONTAINERS_STORAGE_CONF: string;
}

/** Low limits for every container: runc cannot raise one without CAP_SYS_RESOURCE (missing here), so Podman's defaults fail. */
const ULIMITS = ['nofile=1024:1024', 'nproc=1024:1024'];

const toml = (v: string | readonly string[]): string => (typeof v === 'string' ? JSON.stringify(v) : `[${v.map((s) => JSON.stringify(s)).join(', ')}]`);

const containersConf = (dir: string, cniPluginDirs: readonly string[] | undefined): string =>
  [
    '[containers]',
    `default_ulimits = ${toml(ULIMITS)}`,
    '[network]',
    'network_backend = "cni"',
    ...(cniPluginDirs === undefined ? [] : [`cni_plugin_dirs = ${toml(cniPluginDirs)}`]),
    `network_config_dir = ${toml(join(dir, 'net.d'))}`,
    '[engine]',
    // crun 1.8 refuses this host's hybrid cgroups.
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `events_logfile_path = ${toml(join(dir, 'events.log'))}`,
    `tmp_dir = ${toml(join(dir, 'tmp'))}`,
    // File locks under tmp_dir, not the host-wide /dev/shm segment.
    'lock_type = "file"',
    '',
  ].join('\n');

const storageConf = (dir: string): string =>
  ['[storage]', 'driver = "vfs"', `graphroot = ${toml(join(dir, 'root'))}`, `runroot = ${toml(join(dir, 'runroot'))}`, ''].join('\n');

/**
 * Writes dir/containers.conf and dir/storage.conf (and makes dir/net.d and
 * dir/tmp); cniPluginDirs, when given, is where Podman looks for CNI plugins.
 * Removing dir is the caller's teardown.
 */
export const writePodmanConf = (dir: string, o: { readonly cniPluginDirs?: readonly string[] } = {}): PodmanConfEnv => {
  for (const sub of ['net.d', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'containers.conf'), containersConf(dir, o.cniPluginDirs));
  writeFileSync(join(dir, 'storage.conf'), storageConf(dir));
  return { CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf') };
};
