// Pod networks from NetworkAttachmentDefinitions (issue 11, part 2): a
// single-node rig doing what kubelet + Multus do for one pod. Pure core
// (annotation, NAD, plan, network-status) and a thin effect shell.
export type { PodError } from './errors.js';
export { describePodError } from './errors.js';
export type { NetworkSelection } from './annotation.js';
export { parseNetworksAnnotation, NETWORKS_ANNOTATION } from './annotation.js';
export type { Nad } from './nad.js';
export { nadsOfManifest, readNadDir, NAD_KIND, NAD_API_VERSION, RESOURCE_NAME_ANNOTATION } from './nad.js';
export type { NetConfList } from './netconf.js';
export { parseNetConf, pluginStdin, withDeviceId } from './netconf.js';
export type { Delegate, PodIdentity } from './plan.js';
export { planDelegates, cniArgsOf, runtimeConfigOf, delegatedConf, DEFAULT_IFNAME } from './plan.js';
export type { NetworkStatus } from './status.js';
export { networkStatus, NETWORK_STATUS_ANNOTATION } from './status.js';
export { DEFAULT_CONF_DIR } from './conf-file.js';
export type { PodState } from './state.js';
export { DEFAULT_STATE_ROOT, readState, readStatus } from './state.js';
export type { UpOptions, PodUp } from './up.js';
export { podUp } from './up.js';
export { podDown } from './down.js';
