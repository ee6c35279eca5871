// Public API of @tapwire/cni: the plugins (run in-process or bundled into
// executables), the spec codecs, install and measuring.
export { SUPPORTED_VERSIONS, LATEST_VERSION, compareVersions } from './spec/version.js';
export type { CniVersion } from './spec/version.js';
export { CODES, cniError, encodeError } from './spec/errors.js';
export type { CniError } from './spec/errors.js';
export { readEnv, parseCniArgs, validateIfname, COMMANDS } from './spec/env.js';
export type { CniEnv, Command } from './spec/env.js';
export { NetConf, decodeConfig } from './spec/config.js';
export { Result, ResultInterface, ResultIp, ResultRoute, Dns, decodeResult, renderResult, resultProblems } from './spec/result.js';
export { runPlugin, processIo } from './skel.js';
export type { Plugin, PluginIo, Ctx } from './skel.js';
export { findPlugin } from './ipam.js';
export { tapPlugin, TapConf } from './plugins/tap.js';
export { bundlePlugins, PLUGIN_NAMES } from './bundle.js';
export { bundleExecutable, TRACE_GLOBAL } from './bundler.js';
export type { BundleOptions, Bundled } from './bundler.js';
export type { BundleReport, PluginName } from './bundle.js';
export { tcRedirectTapPlugin, redirectResult } from './plugins/tc-redirect-tap.js';
export { installPlugins } from './install.js';
export { measureCniAdd } from './measure.js';
export type { CniAddMeasurement, MeasureOptions, Timing } from './measure.js';
export { macvtapPlugin, MacvtapConf, MACVTAP_MODES } from './plugins/macvtap.js';
export { parseMacvtapResources, defaultResources, discoverResources, RESOURCE_PREFIX } from './macvtap-resources.js';
export type { MacvtapResource, ResourceConfError } from './macvtap-resources.js';
