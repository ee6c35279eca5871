// One self-contained executable per plugin, built by esbuild (bundler.ts) from
// the compiled entries (dist/entry/*.js), so a runtime's call loads one file,
// not the workspace. The bundle is CommonJS with a shebang, and runs whatever
// the package scope of its directory says: in an ESM scope (a "type": "module"
// package.json above it) the banner gives it a `require`. koffi, the only
// native module in the graph, is loaded only if a plugin makes a syscall,
// from `tapwire-lib/` written beside the plugins (bundle-runtime.ts): the
// directory is the whole install, it may be copied to any machine with node.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stageLib } from './bundle-runtime.js';
import { bundleExecutable } from './bundler.js';

export const PLUGIN_NAMES = ['tap', 'macvtap', 'tc-redirect-tap'] as const;
export type PluginName = (typeof PLUGIN_NAMES)[number];

const ENTRY_DIR = join(dirname(fileURLToPath(import.meta.url)), 'entry');

export interface BundleReport {
  readonly plugin: PluginName;
  readonly file: string;
  readonly bytes: number;
}

/** Bundles each plugin to `<outDir>/<name>` (mode 0755) after `<outDir>/tapwire-lib` (koffi). esbuild is loaded only here. */
export const bundlePlugins = async (outDir: string, plugins: readonly PluginName[] = PLUGIN_NAMES): Promise<BundleReport[]> => {
  // The lib first: a new bundle never runs beside an older lib missing what it needs.
  stageLib(outDir);
  const reports: BundleReport[] = [];
  for (const plugin of plugins) {
    const b = await bundleExecutable({ entry: { file: join(ENTRY_DIR, `${plugin}.js`) }, outfile: join(outDir, plugin), title: `tapwire CNI plugin ${plugin}` });
    reports.push({ plugin, file: b.file, bytes: b.bytes });
  }
  return reports;
};
