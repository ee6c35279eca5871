// The running device plugin: one DevicePlugin server per resource in the
// plugin directory, registered with kubelet; a loop that looks at the links
// (health, streamed) and at kubelet.sock (restart => serve and register
// again); stop() closes everything and deletes the macvtaps still ours.
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { NetnsHandle } from '@tapwire/sys';
import { KUBELET_SOCKET } from './api.js';
import { RESOURCE_NAMESPACE, type MacvtapResource } from './config.js';
import { describeDevicePluginError, type DevicePluginError } from './errors.js';
import { socketIdentity } from './kubelet-watch.js';
import { readLinks } from './netlink.js';
import { register } from './registration.js';
import { exclusive, resourceState, type ResourceState } from './resource.js';
import { serve, type Served } from './server.js';

export const DEFAULT_DIR = '/var/lib/kubelet/device-plugins';

export interface PluginOptions {
  readonly dir: string;
  readonly resources: readonly MacvtapResource[];
  /** Where the lower devices are and macvtaps are made: the plugin's own netns in production. */
  readonly netns: NetnsHandle;
  /** How often links and kubelet.sock are looked at; 1000 ms unless told. */
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

export interface RunningPlugin {
  readonly states: readonly ResourceState[];
  /** Successful Register calls so far (all resources). */
  readonly registrations: () => number;
  readonly stop: () => Promise<void>;
}

export const endpointOf = (r: MacvtapResource): string => `${RESOURCE_NAMESPACE}_${r.name}.sock`;

export const startPlugin = (opts: PluginOptions): TE.TaskEither<DevicePluginError, RunningPlugin> => () => start(opts);

const start = async (opts: PluginOptions): Promise<E.Either<DevicePluginError, RunningPlugin>> => {
  const log = opts.log ?? ((line: string) => process.stderr.write(`device-plugin: ${line}\n`));
  const kubeletSocket = join(opts.dir, KUBELET_SOCKET);
  const first = await readLinks(opts.netns)();
  if (E.isLeft(first)) return first;
  const lock = exclusive();
  const states = opts.resources.map((r) => resourceState(r, opts.netns, first.right, lock));
  const served = new Map<ResourceState, Served>();
  let registeredWith: string | undefined;
  let registrations = 0;

  const serveAll = async (): Promise<E.Either<DevicePluginError, void>> => {
    for (const s of states) {
      served.get(s)?.close();
      const r = await serve(s, join(opts.dir, endpointOf(s.resource)), log);
      if (E.isLeft(r)) return r;
      served.set(s, r.right);
    }
    return E.right(undefined);
  };

  /** Registers every resource with the kubelet now behind kubelet.sock. */
  const registerAll = async (kubelet: string): Promise<void> => {
    const ownGone = states.some((s) => socketIdentity(join(opts.dir, endpointOf(s.resource))) === undefined);
    if (registeredWith !== undefined || ownGone) {
      const again = await serveAll();
      if (E.isLeft(again)) return log(describeDevicePluginError(again.left));
    }
    for (const s of states) {
      const r = await register(kubeletSocket, endpointOf(s.resource), s.resource.resourceName)();
      if (E.isLeft(r)) return log(`${describeDevicePluginError(r.left)}; retrying`);
      registrations += 1;
    }
    registeredWith = kubelet;
    log(`registered ${states.map((s) => s.resource.resourceName).join(', ')} with ${kubeletSocket}`);
  };

  const tick = async (): Promise<void> => {
    const links = await readLinks(opts.netns)();
    if (E.isRight(links)) for (const s of states) s.observe(links.right);
    else log(describeDevicePluginError(links.left));
    const kubelet = socketIdentity(kubeletSocket);
    const ownGone = states.some((s) => socketIdentity(join(opts.dir, endpointOf(s.resource))) === undefined);
    if (kubelet !== undefined && (kubelet !== registeredWith || ownGone)) await registerAll(kubelet);
  };

  const initial = await serveAll();
  if (E.isLeft(initial)) {
    for (const s of served.values()) s.close();
    return initial;
  }
  let stopped = false;
  let running: Promise<void> = tick();
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        if (!stopped) schedule();
      });
    }, opts.pollMs ?? 1000);
  };
  void running.finally(schedule);

  return E.right({
    states,
    registrations: () => registrations,
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
      if (timer !== undefined) clearTimeout(timer);
      for (const s of served.values()) s.close();
      served.clear();
      for (const s of states) {
        const r = await s.releaseAll();
        if (E.isLeft(r)) log(describeDevicePluginError(r.left));
      }
    },
  });
};
