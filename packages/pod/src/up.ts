// `pod up`: what kubelet + Multus do for one pod. Plan first (nothing
// changed on a bad input), then the state dir, the netns, the devices and
// the state recording them, and each network's ADD in order;
// a failure in network k DELs k..1 and the default (Multus's delPlugins),
// deletes the netns and the state: the node is left as it was.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { isNamespace } from './annotation.js';
import { addList } from './conflist.js';
import { allocateDevices } from './device-manager.js';
import { callBase, delNetworks } from './down.js';
import type { PodError } from './errors.js';
import { loadPlan, type LoadOptions } from './load.js';
import { addPodNetns, delPodNetns, setDefaultRoutes } from './netns.js';
import { initialState } from './initial-state.js';
import type { PodIdentity } from './plan.js';
import { makePodDir, podDir, removePodDir, writeState, writeStatus, type PodState } from './state.js';
import { decodeCniResult, networkStatus, type NetworkStatus } from './status.js';

export interface UpOptions extends LoadOptions {
  readonly name: string;
  readonly cniPath: readonly string[];
  readonly stateRoot: string;
  /** The netns the plugins and the device plugin see as the node (a netns spec); ours when unset. */
  readonly nodeNetns?: string;
  /** DP_MACVTAP_CONF for NADs with a resourceName. */
  readonly devicePluginConfig?: string;
  readonly log?: (line: string) => void;
  /** Stops before the next step (netns, devices, each network's ADD); what was made is undone as on a failure. */
  readonly signal?: AbortSignal;
}

export interface PodUp {
  readonly state: PodState;
  readonly status: readonly NetworkStatus[];
}

const podName = (name: string): E.Either<PodError, string> =>
  isNamespace(name) ? E.right(name) : E.left({ _tag: 'BadPodName', name, expected: 'a DNS-1123 label (it also names the netns)' });

const readDeviceInfo = (file: string | undefined): unknown => {
  if (file === undefined || !existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};

const abortReason = (signal: AbortSignal): string => {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'aborted';
};

const abortedIn = (o: UpOptions, what: string): PodError | undefined =>
  o.signal?.aborted === true ? { _tag: 'Aborted', what: `pod up ${o.name} (${what})`, reason: abortReason(o.signal) } : undefined;

export const podUp = (o: UpOptions): TE.TaskEither<PodError, PodUp> => () => up(o);

const up = async (o: UpOptions): Promise<E.Either<PodError, PodUp>> => {
  const name = podName(o.name);
  if (E.isLeft(name)) return name;
  const plan = loadPlan(o);
  if (E.isLeft(plan)) return plan;
  let node: NetnsHandle | undefined;
  if (o.nodeNetns !== undefined) {
    const n = resolveNetns(o.nodeNetns);
    if (E.isLeft(n)) return E.left({ _tag: 'Sys', what: 'opening the node netns', cause: n.left });
    node = n.right;
  }
  if (E.isRight(resolveNetns(o.name))) return E.left({ _tag: 'PodExists', name: o.name, where: `netns ${o.name}` });
  const early = abortedIn(o, 'before anything was made');
  if (early !== undefined) return E.left(early);
  const dir = makePodDir(o.stateRoot, o.name);
  if (E.isLeft(dir)) return dir;
  const abandon = async <A>(e: E.Either<PodError, A>): Promise<E.Either<PodError, A>> => {
    removePodDir(o.stateRoot, o.name);
    return e;
  };
  const ns = await addPodNetns(o.name);
  if (E.isLeft(ns)) return abandon(ns);
  const pod: PodIdentity = { name: o.name, namespace: o.namespace, uid: randomUUID(), containerId: randomBytes(32).toString('hex'), netns: ns.right.path };
  const alloc = await allocateDevices(
    { stateRoot: o.stateRoot, config: o.devicePluginConfig ?? process.env['DP_MACVTAP_CONF'] ?? '[]', node, log: o.log ?? (() => undefined) },
    plan.right,
    (ids) => {
      const s = initialState(pod, o.name, podDir(o.stateRoot, o.name), plan.right, ids, { annotation: o.networks, cniPath: o.cniPath, nodeNetns: node?.path });
      return E.map(() => s)(writeState(o.stateRoot, s));
    },
  );
  if (E.isLeft(alloc)) {
    await delPodNetns(o.name);
    return abandon(alloc);
  }
  const state = alloc.right.recorded;
  const networks = state.networks;
  /** Network `failed` (if any) gets a DEL whose complaints are dropped, as Multus does: it may be half made. */
  const undo = async (cause: PodError, upTo: number, failed = -1): Promise<E.Either<PodError, never>> => {
    if (failed >= 0) await delNetworks(state, failed, failed);
    const failures = await delNetworks(state, upTo);
    await alloc.right.devices?.close();
    const gone = await delPodNetns(o.name);
    if (E.isLeft(gone)) failures.push(gone.left);
    removePodDir(o.stateRoot, o.name);
    return E.left({ _tag: 'UpFailed', cause, undo: failures });
  };
  const status: NetworkStatus[] = [];
  for (const [i, n] of networks.entries()) {
    const aborted = abortedIn(o, `before the ADD of ${n.network}`);
    if (aborted !== undefined) return undo(aborted, i - 1);
    networks[i] = { ...n, attempted: true };
    const marked = writeState(o.stateRoot, state);
    if (E.isLeft(marked)) return undo(marked.left, i);
    o.log?.(`ADD ${n.network} as ${n.ifname}`);
    const r = await addList(callBase(state, n), n.conf, n.runtimeConfig);
    if (E.isLeft(r)) return undo(r.left, i - 1, i);
    networks[i] = { ...n, attempted: true, result: r.right };
    const kept = writeState(o.stateRoot, state);
    if (E.isLeft(kept)) return undo(kept.left, i);
    if (n.defaultRoute !== undefined && n.defaultRoute.length > 0) {
      const routed = await setDefaultRoutes(ns.right, n.ifname, n.defaultRoute);
      if (E.isLeft(routed)) return undo(routed.left, i);
    }
    const result = decodeCniResult(r.right);
    if (E.isRight(result)) status.push(networkStatus(n.network, n.ifname, n.isDefault, result.right, readDeviceInfo(n.deviceInfoFile)));
  }
  await alloc.right.devices?.close();
  const written = writeStatus(o.stateRoot, o.name, status);
  if (E.isLeft(written)) return undo(written.left, networks.length - 1);
  return E.right({ state, status });
};
