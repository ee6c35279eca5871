// `tapwire device-plugin [--dir DIR]`: read DP_MACVTAP_CONF, offer its
// resources (or, for `[]`, the node's physical links and bonds), serve and
// register until SIGTERM/SIGINT, then clean up. Runs in the netns it was
// started in (the host's, in a DaemonSet with hostNetwork).
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { CONFIG_ENV, parseConfig, type MacvtapResource } from './config.js';
import { describeDevicePluginError, type DevicePluginError } from './errors.js';
import { discoverResources } from './links.js';
import { readLinks } from './netlink.js';
import { DEFAULT_DIR, startPlugin, type RunningPlugin } from './plugin.js';

export const DEVICE_PLUGIN_HELP = `tapwire device-plugin [--dir DIR]
  Kubelet device plugin (v1beta1) offering macvtap devices as kubevirt/macvtap-cni's:
  resources from DP_MACVTAP_CONF (JSON: [{name, lowerDevice, mode, capacity}], or []
  for one per physical link or bond) as macvtap.network.kubevirt.io/<name>. Registers
  at DIR/kubelet.sock (default ${DEFAULT_DIR}) and serves until SIGTERM/SIGINT.`;

export interface RunOptions {
  readonly dir?: string;
  /** DP_MACVTAP_CONF's text; `[]` when unset, as upstream's ConfigMap default. */
  readonly config?: string;
  /** A netns spec (name, path, pid:N); the plugin's own netns when unset. */
  readonly netns?: string;
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

const badArgs = (problem: string): E.Either<DevicePluginError, never> => E.left({ _tag: 'BadArgs', problem, usage: DEVICE_PLUGIN_HELP });

/** `--dir DIR` or `--dir=DIR`, an absolute path; anything else is BadArgs. */
export const parseArgs = (argv: readonly string[]): E.Either<DevicePluginError, { readonly dir: string }> => {
  let dir = DEFAULT_DIR;
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    const next = argv[i + 1];
    if (a === '--dir' && next !== undefined) {
      dir = next;
      i += 1;
    } else if (a.startsWith('--dir=')) dir = a.slice('--dir='.length);
    else return badArgs(`device-plugin: unexpected ${JSON.stringify(a)}`);
  }
  return dir.startsWith('/') ? E.right({ dir }) : badArgs(`device-plugin: --dir expects an absolute directory, found ${JSON.stringify(dir)}`);
};

const resourcesFor = async (config: string, ns: NetnsHandle, log: (l: string) => void): Promise<E.Either<DevicePluginError, readonly MacvtapResource[]>> => {
  const conf = parseConfig(config);
  if (E.isLeft(conf) || conf.right.length > 0) return conf;
  const links = await readLinks(ns)();
  if (E.isLeft(links)) return links;
  const found = discoverResources(links.right);
  for (const why of found.skipped) log(`not offered: ${why}`);
  return E.right(found.resources);
};

/** Starts the plugin; resolves to the running plugin, or a typed error at start. */
export const startDevicePlugin = (opts: RunOptions = {}): TE.TaskEither<DevicePluginError, RunningPlugin> => () => startWith(opts);

const startWith = async (opts: RunOptions): Promise<E.Either<DevicePluginError, RunningPlugin>> => {
  const log = opts.log ?? ((line: string) => process.stderr.write(`device-plugin: ${line}\n`));
  const ns = resolveNetns(opts.netns ?? `/proc/${process.pid}/ns/net`);
  if (E.isLeft(ns)) return E.left({ _tag: 'Sys', what: 'opening the plugin netns', cause: ns.left });
  const resources = await resourcesFor(opts.config ?? process.env[CONFIG_ENV] ?? '[]', ns.right, log);
  if (E.isLeft(resources)) return resources;
  if (resources.right.length === 0) log('no resources to offer (no physical link or bond found)');
  else log(`offering ${resources.right.map((r) => `${r.resourceName} (${r.capacity} on ${r.lowerDevice}, ${r.mode})`).join(', ')}`);
  return startPlugin({ dir: opts.dir ?? DEFAULT_DIR, resources: resources.right, netns: ns.right, log, ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }) })();
};

const untilSignal = (): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });

/** The CLI verb as a typed result: serves until SIGTERM/SIGINT, then cleans up. */
export const runDevicePlugin = (argv: readonly string[]): TE.TaskEither<DevicePluginError, void> => () => runUntilSignal(argv);

const runUntilSignal = async (argv: readonly string[]): Promise<E.Either<DevicePluginError, void>> => {
  const args = parseArgs(argv);
  if (E.isLeft(args)) return args;
  const started = await startDevicePlugin({ dir: args.right.dir })();
  if (E.isLeft(started)) return started;
  await untilSignal();
  await started.right.stop();
  return E.right(undefined);
};

/** Standalone entry (bin.ts): the exit code, errors on stderr (2 for a bad command line). */
export const run = async (argv: readonly string[]): Promise<number> => {
  const r = await runDevicePlugin(argv)();
  if (E.isRight(r)) return 0;
  process.stderr.write(`tapwire device-plugin: ${describeDevicePluginError(r.left)}\n`);
  return r.left._tag === 'BadArgs' ? 2 : 1;
};
