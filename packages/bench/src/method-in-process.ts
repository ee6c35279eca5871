// (a) tapwire in-process: scan -> classify -> attachAll -> open queue fds ->
// close -> detachAll, with spawns counted by @tapwire/sys itself; with the
// ip/tc executor (a) or the netlink one (a2: no process at all).
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan, describeEndpointsError } from '@tapwire/endpoints';
import { attachAll, describeNetmodelError, detachAll, type Executor } from '@tapwire/netmodel';
import { spawnCount } from '@tapwire/sys';
import { phaseClock, type MethodRun } from './clock.js';
import { openAndCloseQueues } from './fds.js';
import type { Pod } from './pod.js';

export const inProcess = async (pod: Pod, queues: number, executor: Executor = 'iproute2'): Promise<MethodRun> => {
  const clock = phaseClock(spawnCount);
  const snap = await scan(pod.ns, { source: executor })();
  if (E.isLeft(snap)) throw new Error(`in-process scan: ${describeEndpointsError(snap.left)}`);
  const endpoints = classify(snap.right);
  clock.lap('scan');
  let attached = false;
  try {
    const atts = await attachAll(pod.ns, endpoints, 'tcfilter', { queues, executor })();
    if (E.isLeft(atts)) throw new Error(`in-process attachAll: ${describeNetmodelError(atts.left)}`);
    attached = true;
    if (atts.right.length !== pod.links.length) throw new Error(`in-process attachAll attached ${atts.right.length} links, expected ${pod.links.length}`);
    clock.lap('attach');
    openAndCloseQueues(pod.ns, atts.right.map((a) => ({ name: a.tapName, queues: a.queues, multiQueue: a.multiQueue })));
    clock.lap('fds');
    const detached = await detachAll(pod.ns, { executor })();
    attached = false;
    if (E.isLeft(detached)) throw new Error(`in-process detachAll: ${describeNetmodelError(detached.left)}`);
    clock.lap('detach');
  } finally {
    // Only on an error path: leave the netns as found for the next method.
    if (attached) await detachAll(pod.ns, { executor })();
  }
  return clock.result();
};
