// The state a pod starts with: per planned network the exact config (with
// its deviceID), CNI_ARGS and runtimeConfig its ADD and DEL will be given.
import { join } from 'node:path';
import { cniArgsOf, delegatedConf, runtimeConfigOf, type Delegate, type PodIdentity } from './plan.js';
import type { NetworkState, PodState } from './state.js';

export const initialState = (
  pod: PodIdentity,
  netnsName: string,
  podDir: string,
  plan: readonly Delegate[],
  deviceIds: readonly (string | undefined)[],
  rest: { readonly annotation: string; readonly cniPath: readonly string[]; readonly nodeNetns: string | undefined },
): PodState => {
  const networks = plan.map((d, i): NetworkState => {
    const deviceId = deviceIds[i];
    // Where a device-info-aware plugin may write its device-info (Multus's CNIDeviceInfoFile).
    const deviceInfoFile = d.resourceName === undefined ? undefined : join(podDir, `device-info-${d.ifname}.json`);
    return {
      network: d.network,
      ifname: d.ifname,
      isDefault: d.isDefault,
      conf: delegatedConf(d, deviceId) as NetworkState['conf'],
      cniArgs: cniArgsOf(pod, d),
      runtimeConfig: { ...runtimeConfigOf(d, deviceId, deviceInfoFile) },
      attempted: false,
      ...(d.resourceName === undefined ? {} : { resourceName: d.resourceName }),
      ...(deviceId === undefined ? {} : { deviceId }),
      ...(deviceInfoFile === undefined ? {} : { deviceInfoFile }),
      ...(d.defaultRoute === undefined ? {} : { defaultRoute: [...d.defaultRoute] }),
    };
  });
  return {
    pod: { ...pod, netnsName },
    annotation: rest.annotation,
    cniPath: [...rest.cniPath],
    networks,
    ...(rest.nodeNetns === undefined ? {} : { nodeNetns: rest.nodeNetns }),
  };
};
