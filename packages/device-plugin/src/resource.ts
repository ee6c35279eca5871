// One resource's live state: its devices as last seen, who watches them,
// and the macvtaps it made that are still in the plugin's netns (ours to
// delete on shutdown; once the CNI moves one into a pod it is the pod's).
import * as E from 'fp-ts/lib/Either.js';
import type { NetnsHandle } from '@tapwire/sys';
import { allocatePlan, allocateResponse, releaseCommands, type ContainerAllocateResponse } from './allocate.js';
import type { MacvtapResource } from './config.js';
import { deviceList, sameDevices, type Device } from './devices.js';
import type { DevicePluginError } from './errors.js';
import type { LinkState } from './links.js';
import { applyIp, readLinks } from './netlink.js';

/** Serializes changes to the netns: an allocation reads links, then adds. */
export type Exclusive = <A>(job: () => Promise<A>) => Promise<A>;

export const exclusive = (): Exclusive => {
  let tail: Promise<unknown> = Promise.resolve();
  return <A>(job: () => Promise<A>): Promise<A> => {
    const next = tail.then(job, job);
    tail = next.catch(() => undefined);
    return next;
  };
};

export interface ResourceState {
  readonly resource: MacvtapResource;
  readonly devices: () => readonly Device[];
  /** Calls back on every change of the list; returns the unsubscribe. */
  readonly watch: (onChange: (devices: readonly Device[]) => void) => () => void;
  readonly observe: (host: readonly LinkState[]) => void;
  readonly allocate: (requests: readonly (readonly string[])[]) => Promise<E.Either<DevicePluginError, readonly ContainerAllocateResponse[]>>;
  /** Made by us and still in the plugin's netns. */
  readonly held: () => readonly string[];
  readonly releaseAll: () => Promise<E.Either<DevicePluginError, void>>;
}

export const resourceState = (resource: MacvtapResource, ns: NetnsHandle, host: readonly LinkState[], lock: Exclusive): ResourceState => {
  let devices = deviceList(resource, host);
  const watchers = new Set<(d: readonly Device[]) => void>();
  const made = new Set<string>();

  const observe = (links: readonly LinkState[]): void => {
    // Moved into a pod (or deleted with its lower device): no longer ours.
    for (const id of made) if (!links.some((l) => l.name === id)) made.delete(id);
    const next = deviceList(resource, links);
    if (sameDevices(devices, next)) return;
    devices = next;
    for (const w of watchers) w(devices);
  };

  const allocate = (requests: readonly (readonly string[])[]) =>
    lock(async (): Promise<E.Either<DevicePluginError, readonly ContainerAllocateResponse[]>> => {
      const before = await readLinks(ns)();
      if (E.isLeft(before)) return before;
      const plan = allocatePlan(resource, requests, before.right);
      if (E.isLeft(plan)) return plan;
      const applied = await applyIp(ns, `making macvtaps ${plan.right.devices.join(', ')} on ${resource.lowerDevice}`, plan.right.commands)();
      const after = await readLinks(ns)();
      if (E.isRight(after)) {
        for (const id of plan.right.devices) if (after.right.some((l) => l.name === id)) made.add(id);
        observe(after.right);
      }
      if (E.isLeft(applied)) {
        // All or nothing, as the API asks: drop what this call made.
        if (E.isRight(after)) await applyIp(ns, 'undoing a failed allocation', releaseCommands(resource, plan.right.devices, after.right), true)();
        return applied;
      }
      if (E.isLeft(after)) return after;
      return allocateResponse(resource, requests, after.right);
    });

  const releaseAll = () =>
    lock(async (): Promise<E.Either<DevicePluginError, void>> => {
      if (made.size === 0) return E.right(undefined);
      const host = await readLinks(ns)();
      if (E.isLeft(host)) return host;
      const done = await applyIp(ns, `deleting macvtaps of ${resource.resourceName}`, releaseCommands(resource, [...made], host.right), true)();
      made.clear();
      return done;
    });

  return {
    resource,
    devices: () => devices,
    watch: (onChange) => {
      watchers.add(onChange);
      return () => void watchers.delete(onChange);
    },
    observe,
    allocate,
    held: () => [...made],
    releaseAll,
  };
};
