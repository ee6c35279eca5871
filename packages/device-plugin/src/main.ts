// `tapwire device-plugin [--dir DIR]`: read DP_MACVTAP_CONF, offer its
// resources (or, for `[]`, the node's physical links and bonds), serve and
// register until SIGTERM/SIGINT, then clean up. Runs in the netns it was
// started in (the host's, in a DaemonSet with hostNetwork).
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { CONFIG_ENV, parseConfig, type MacvtapResource } from './config.js';
import { describeDevicePluginError, type DevicePluginError } from './errors.js';
import { discoverResources } from './links.js';
import { readLinks } from './netlink.js';
import { DEFAULT_DIR, startPlugin, type RunningPlugin } from './plugin.js';

export interface RunOptions {
  readonly dir?: string;
  /** DP_MACVTAP_CONF's text; `[]` when unset, as upstream's ConfigMap default. */
  readonly config?: string;
  /** A netns spec (name, path, pid:N); the plugin's own netns when unset. */
  readonly netns?: string;
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

export const usage = 'usage: tapwire device-plugin [--dir DIR]   (resources from the DP_MACVTAP_CONF environment variable)';

/** `--dir DIR` / `--dir=DIR`; anything else is a BadConfig naming it. */
export const parseArgs = (argv: readonly string[]): E.Either<DevicePluginError, { readonly dir: string }> => {
  let dir = DEFAULT_DIR;
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    if (a === '--dir' && argv[i + 1] !== undefined) dir = argv[++i] ?? dir;
    else if (a.startsWith('--dir=')) dir = a.slice('--dir='.length);
    else return E.left({ _tag: 'BadConfig', input: 'arguments', problems: [`unexpected ${JSON.stringify(a)}; ${usage}`] });
  }
  return dir.startsWith('/') ? E.right({ dir }) : E.left({ _tag: 'BadConfig', input: '--dir', problems: [`expected an absolute directory, found ${JSON.stringify(dir)}`] });
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
export const startDevicePlugin = async (opts: RunOptions = {}): Promise<E.Either<DevicePluginError, RunningPlugin>> => {
  const log = opts.log ?? ((line: string) => process.stderr.write(`device-plugin: ${line}\n`));
  const ns = resolveNetns(opts.netns ?? `/proc/${process.pid}/ns/net`);
  if (E.isLeft(ns)) return E.left({ _tag: 'Sys', what: 'opening the plugin netns', cause: ns.left });
  const resources = await resourcesFor(opts.config ?? process.env[CONFIG_ENV] ?? '[]', ns.right, log);
  if (E.isLeft(resources)) return resources;
  if (resources.right.length === 0) log('no resources to offer (no physical link or bond found)');
  return startPlugin({ dir: opts.dir ?? DEFAULT_DIR, resources: resources.right, netns: ns.right, log, ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }) });
};

/** The CLI verb: runs until SIGTERM or SIGINT; returns the exit code. */
export const run = async (argv: readonly string[]): Promise<number> => {
  const args = parseArgs(argv);
  const started = E.isLeft(args) ? args : await startDevicePlugin({ dir: args.right.dir });
  if (E.isLeft(started)) {
    process.stderr.write(`tapwire device-plugin: ${describeDevicePluginError(started.left)}\n`);
    return 2;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await started.right.stop();
  return 0;
};
