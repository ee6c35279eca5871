// `tapwire cni install --dir DIR`: the bundled executables under their drop-in
// names (a config's "type": "tap" finds DIR/tap on CNI_PATH), and beside them
// DIR/tapwire-lib, what they load at run time (koffi): DIR runs anywhere as is.
import { bundlePlugins, PLUGIN_NAMES, type BundleReport, type PluginName } from './bundle.js';

export const installPlugins = (dir: string, plugins: readonly PluginName[] = PLUGIN_NAMES): Promise<BundleReport[]> => bundlePlugins(dir, plugins);
