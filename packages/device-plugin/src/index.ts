// The macvtap device plugin (kubelet device plugin API v1beta1), as
// kubevirt/macvtap-cni's: resources from DP_MACVTAP_CONF, one macvtap per
// allocated device, handed to the macvtap CNI as its deviceID.
export type { DevicePluginError } from './errors.js';
export { describeDevicePluginError } from './errors.js';
export type { MacvtapResource, MacvtapMode } from './config.js';
export { parseConfig, CONFIG_ENV, RESOURCE_NAMESPACE } from './config.js';
export type { RunningPlugin, PluginOptions } from './plugin.js';
export { startPlugin, endpointOf, DEFAULT_DIR } from './plugin.js';
export type { RunOptions } from './main.js';
export { run, runDevicePlugin, startDevicePlugin, parseArgs, DEVICE_PLUGIN_HELP } from './main.js';
