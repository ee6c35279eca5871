// kubelet's device manager, for this rig: every network with a resourceName
// gets a device the device plugin Allocates. Choosing a free device (none a
// pod in the state root holds) and recording the choice (`record`, which
// writes this pod's state) happen under the node netns's tapwire lock, so
// two `pod up` at once never pick the same device.
import * as E from 'fp-ts/lib/Either.js';
import { lockNetns, resolveNetns, type NetnsHandle, type SysError } from '@tapwire/sys';
import { openDevices, type Devices } from './devices.js';
import type { PodError } from './errors.js';
import type { Delegate } from './plan.js';
import { devicesInUse } from './state.js';

export interface Allocation<S> {
  /** Open until the CNI took the devices; close() deletes any it did not. */
  readonly devices: Devices | undefined;
  readonly ids: readonly (string | undefined)[];
  /** What `record` made of the IDs (the pod's state). */
  readonly recorded: S;
}

export interface DeviceManagerOptions {
  readonly stateRoot: string;
  readonly config: string;
  readonly node: NetnsHandle | undefined;
  readonly log: (line: string) => void;
}

const allocateEach = async (o: DeviceManagerOptions, plan: readonly Delegate[], devices: Devices): Promise<E.Either<PodError, (string | undefined)[]>> => {
  const ids: (string | undefined)[] = [];
  const mine = new Set<string>();
  for (const d of plan) {
    if (d.resourceName === undefined) {
      ids.push(undefined);
      continue;
    }
    const inUse = new Set([...devicesInUse(o.stateRoot, d.resourceName), ...mine]);
    const id = await devices.allocate(d.network, d.resourceName, inUse);
    if (E.isLeft(id)) return id;
    mine.add(id.right);
    ids.push(id.right);
  }
  return E.right(ids);
};

const nodeHandle = (node: NetnsHandle | undefined): E.Either<PodError, NetnsHandle> =>
  node !== undefined ? E.right(node) : E.mapLeft((cause: SysError): PodError => ({ _tag: 'Sys', what: 'opening our netns', cause }))(resolveNetns(`/proc/${process.pid}/ns/net`));

export const allocateDevices = async <S>(
  o: DeviceManagerOptions,
  plan: readonly Delegate[],
  record: (ids: readonly (string | undefined)[]) => E.Either<PodError, S>,
): Promise<E.Either<PodError, Allocation<S>>> => {
  if (!plan.some((d) => d.resourceName !== undefined)) {
    const ids = plan.map(() => undefined);
    return E.map((recorded: S) => ({ devices: undefined, ids, recorded }))(record(ids));
  }
  const node = nodeHandle(o.node);
  if (E.isLeft(node)) return node;
  const handle = node.right;
  const lock = await lockNetns(handle, 'tapwire pod up: allocating devices')();
  if (E.isLeft(lock)) return E.left({ _tag: 'Sys', what: 'locking the node netns for device allocation', cause: lock.left });
  try {
    const devices = await openDevices({ config: o.config, log: o.log, nodeNetns: handle.path });
    if (E.isLeft(devices)) return devices;
    const ids = await allocateEach(o, plan, devices.right);
    const recorded = E.isLeft(ids) ? ids : record(ids.right);
    if (E.isLeft(recorded)) {
      await devices.right.close();
      return recorded;
    }
    return E.right({ devices: devices.right, ids: E.isRight(ids) ? ids.right : [], recorded: recorded.right });
  } finally {
    lock.right.release();
  }
};
