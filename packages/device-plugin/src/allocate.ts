// Allocate as data: which ip commands make the requested devices, and the
// ContainerAllocateResponse built from the links they made. Like upstream,
// a device whose macvtap is still in the host (an earlier allocation whose
// pod never ran the CNI) is deleted and made anew, so its state is reset.
import * as E from 'fp-ts/lib/Either.js';
import type { MacvtapResource } from './config.js';
import { deviceIds } from './devices.js';
import type { DevicePluginError } from './errors.js';
import type { LinkState } from './links.js';

export type IpCommand = readonly string[];

export interface AllocatePlan {
  /** Every requested device, in request order. */
  readonly devices: readonly string[];
  /** ip commands (without `ip`) for one -batch run in the plugin's netns. */
  readonly commands: readonly IpCommand[];
}

export interface DeviceSpec {
  readonly container_path: string;
  readonly host_path: string;
  readonly permissions: string;
}

export interface ContainerAllocateResponse {
  readonly envs: Readonly<Record<string, string>>;
  readonly devices: readonly DeviceSpec[];
}

const isOurMacvtap = (r: MacvtapResource, l: LinkState): boolean => l.kind === 'macvtap' && l.lower === r.lowerDevice;

export const allocatePlan = (
  r: MacvtapResource,
  requests: readonly (readonly string[])[],
  host: readonly LinkState[],
): E.Either<DevicePluginError, AllocatePlan> => {
  const known = new Set(deviceIds(r));
  const devices = requests.flat();
  const unknown = devices.find((id) => !known.has(id));
  if (unknown !== undefined) return E.left({ _tag: 'UnknownDevice', resourceName: r.resourceName, deviceId: unknown });
  if (!host.some((l) => l.name === r.lowerDevice)) return E.left({ _tag: 'LowerDeviceMissing', resourceName: r.resourceName, lowerDevice: r.lowerDevice });
  const commands: IpCommand[] = [];
  for (const id of devices) {
    const existing = host.find((l) => l.name === id);
    if (existing !== undefined && !isOurMacvtap(r, existing)) {
      return E.left({ _tag: 'DeviceNameTaken', deviceId: id, found: `a ${existing.kind ?? 'plain'} link${existing.lower === undefined ? '' : ` on ${existing.lower}`}` });
    }
    if (existing !== undefined) commands.push(['link', 'del', 'dev', id]);
    commands.push(['link', 'add', 'link', r.lowerDevice, 'name', id, 'type', 'macvtap', 'mode', r.mode]);
  }
  return E.right({ devices, commands });
};

/** The inverse of a plan's adds: what releases devices still in the host. */
export const releaseCommands = (r: MacvtapResource, ids: readonly string[], host: readonly LinkState[]): readonly IpCommand[] =>
  ids.filter((id) => host.some((l) => l.name === id && isOurMacvtap(r, l))).map((id) => ['link', 'del', 'dev', id]);

/**
 * Env var naming the allocated links, as SR-IOV's plugin does with
 * PCIDEVICE_<RESOURCE>: MACVTAP_NETWORK_KUBEVIRT_IO_<NAME>=dev1,dev2. Upstream
 * macvtap-cni sets none (Multus reads device IDs from kubelet's checkpoint
 * and passes them to the CNI as `deviceID`); this lets a workload see them.
 */
export const envName = (r: MacvtapResource): string => r.resourceName.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** /dev/tap<ifindex> is the macvtap's character device (made by devtmpfs/udev). */
export const tapPath = (ifindex: number): string => `/dev/tap${ifindex}`;

export const allocateResponse = (
  r: MacvtapResource,
  requests: readonly (readonly string[])[],
  host: readonly LinkState[],
): E.Either<DevicePluginError, readonly ContainerAllocateResponse[]> => {
  const out: ContainerAllocateResponse[] = [];
  for (const ids of requests) {
    const devices: DeviceSpec[] = [];
    for (const id of ids) {
      const l = host.find((x) => x.name === id && isOurMacvtap(r, x));
      if (l === undefined) return E.left({ _tag: 'DeviceVanished', deviceId: id });
      devices.push({ container_path: tapPath(l.ifindex), host_path: tapPath(l.ifindex), permissions: 'rw' });
    }
    out.push({ envs: { [envName(r)]: ids.join(',') }, devices });
  }
  return E.right(out);
};
