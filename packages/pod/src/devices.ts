// resourceName satisfied through the device plugin, in-process: its library
// (startDevicePlugin) runs against the node netns for the length of `pod up`
// and Allocate is the same code its gRPC server calls. This rig plays
// kubelet's device manager: it picks a Healthy device no other pod in the
// state root holds (kubelet's checkpoint), and the ID becomes Multus's
// deviceID. stop() deletes macvtaps the CNI did not take (an undone pod).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { startDevicePlugin, type RunningPlugin } from '@tapwire/device-plugin';
import type { PodError } from './errors.js';

export interface Devices {
  readonly allocate: (network: string, resourceName: string, inUse: ReadonlySet<string>) => Promise<E.Either<PodError, string>>;
  readonly close: () => Promise<void>;
}

export interface DeviceOptions {
  /** DP_MACVTAP_CONF's text. */
  readonly config: string;
  /** Where lower devices are and macvtaps are made (a netns path); ours when undefined. */
  readonly nodeNetns?: string;
  readonly log: (line: string) => void;
}

export const openDevices = async (o: DeviceOptions): Promise<E.Either<PodError, Devices>> => {
  // The plugin serves its sockets here; nobody dials them (no kubelet.sock), so it never registers.
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-pod-dp-'));
  const started = await startDevicePlugin({ dir, config: o.config, pollMs: 3_600_000, log: o.log, ...(o.nodeNetns === undefined ? {} : { netns: o.nodeNetns }) })();
  if (E.isLeft(started)) {
    rmSync(dir, { recursive: true, force: true });
    return E.left({ _tag: 'DevicePlugin', what: 'starting the device plugin', cause: started.left });
  }
  const plugin: RunningPlugin = started.right;
  const taken = new Set<string>();
  return E.right({
    allocate: async (network, resourceName, inUse) => {
      const state = plugin.states.find((s) => s.resource.resourceName === resourceName);
      if (state === undefined) {
        const offered = plugin.states.map((s) => s.resource.resourceName).join(', ') || 'nothing';
        return E.left({ _tag: 'NoDevice', network, resourceName, problem: `the device plugin offers ${offered} (DP_MACVTAP_CONF)` });
      }
      const free = state.devices().find((d) => d.health === 'Healthy' && !inUse.has(d.ID) && !taken.has(d.ID));
      if (free === undefined) return E.left({ _tag: 'NoDevice', network, resourceName, problem: `no Healthy device left of ${state.devices().length} (lower device ${state.resource.lowerDevice})` });
      const r = await state.allocate([[free.ID]]);
      if (E.isLeft(r)) return E.left({ _tag: 'DevicePlugin', what: `allocating ${free.ID} for ${network}`, cause: r.left });
      taken.add(free.ID);
      return E.right(free.ID);
    },
    close: async () => {
      await plugin.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
};
