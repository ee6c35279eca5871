// `pod down`: DEL of every network ADD was started for, in reverse order,
// with the same config, CNI_ARGS, runtimeConfig and the cached result as
// prevResult; then the netns and the state dir go. DEL goes on past a
// failure (as Multus's delPlugins); devices allocated but never taken by
// the CNI are deleted; if anything failed the netns and state stay, so
// running down again retries with the same inputs.
import { rmSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { delList, type CallBase } from './conflist.js';
import type { PodError } from './errors.js';
import { releaseLeftoverDevices } from './leftovers.js';
import { delPodNetns } from './netns.js';
import { readState, removePodDir, type NetworkState, type PodState } from './state.js';

export const callBase = (s: PodState, n: Pick<NetworkState, 'network' | 'ifname' | 'cniArgs'>): CallBase => ({
  network: n.network,
  containerId: s.pod.containerId,
  netns: s.pod.netns,
  ifname: n.ifname,
  cniArgs: n.cniArgs,
  cniPath: s.cniPath,
  ...(s.nodeNetns === undefined ? {} : { nodeNetns: s.nodeNetns }),
});

/** DEL of networks[downTo..upTo] in reverse; every failure is returned. */
export const delNetworks = async (s: PodState, upTo: number, downTo = 0): Promise<PodError[]> => {
  const failures: PodError[] = [];
  for (let i = upTo; i >= downTo; i -= 1) {
    const n = s.networks[i];
    if (n === undefined || !n.attempted) continue;
    const r = await delList(callBase(s, n), n.conf, n.runtimeConfig, n.result);
    if (E.isLeft(r)) failures.push(r.left);
    if (n.deviceInfoFile !== undefined) rmSync(n.deviceInfoFile, { force: true });
  }
  return failures;
};

export const podDown = (stateRoot: string, name: string): TE.TaskEither<PodError, void> => () => down(stateRoot, name);

const down = async (stateRoot: string, name: string): Promise<E.Either<PodError, void>> => {
  const s = readState(stateRoot, name);
  if (E.isLeft(s)) return s;
  const failures = await delNetworks(s.right, s.right.networks.length - 1);
  const leftovers = await releaseLeftoverDevices(s.right);
  if (E.isLeft(leftovers)) failures.push(leftovers.left);
  if (failures.length > 0) return E.left({ _tag: 'DownIncomplete', failures });
  const ns = await delPodNetns(s.right.pod.netnsName);
  if (E.isLeft(ns)) return ns;
  removePodDir(stateRoot, name);
  return E.right(undefined);
};
