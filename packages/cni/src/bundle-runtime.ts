// What a bundle (bundler.ts) loads at run time, and where it looks: nothing is
// found by the path it had where the bundle was built, so a bundle copied to
// another machine runs there. From the bundle's own directory:
// 1. `tapwire-lib/` beside it (stageLib writes it: `tapwire cni install`,
//    deploy/build.mjs): koffi trimmed to its loader and this platform's
//    binary, and the files our modules open next to themselves (assets), at
//    `tapwire-lib/packages/<package name>/<path in the package>`;
// 2. else the install it sits in: the package as node would find it from
//    there (the CLI's bundle in packages/cli/dist, or node_modules/@tapwire/cli).
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

/** The folder beside a bundle holding what it loads at run time. */
export const LIB_DIR = 'tapwire-lib';

/**
 * Defined by the banner of every bundle (plain JS, run before any module).
 * `__tapwire.moduleUrl(name, path)` stands for the import.meta.url of our
 * module `path` in package `name`; `__tapwire.lib()` is the bundle's LIB_DIR.
 * A package found nowhere keeps its LIB_DIR place, so an error names where it was looked for.
 */
export const BUNDLE_RUNTIME = `var __tapwire = (() => {
  const path = require('node:path');
  const fs = require('node:fs');
  let dir;
  const roots = new Map();
  const bundleDir = () => (dir ??= typeof __dirname === 'string' ? __dirname : path.dirname(fs.realpathSync(process.argv[1])));
  const lib = () => path.join(bundleDir(), ${JSON.stringify(LIB_DIR)});
  const nameAt = (d) => { try { return JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')).name; } catch { return undefined; } };
  const find = (name) => {
    const staged = path.join(lib(), 'packages', name);
    if (fs.existsSync(staged)) return staged;
    for (let d = bundleDir(); ; d = path.dirname(d)) {
      if (nameAt(d) === name) return d;
      const m = path.join(d, 'node_modules', name);
      if (fs.existsSync(path.join(m, 'package.json'))) return fs.realpathSync(m);
      if (path.dirname(d) === d) return staged;
    }
  };
  const packageRoot = (name) => { let r = roots.get(name); if (r === undefined) roots.set(name, (r = find(name))); return r; };
  return { bundleDir, lib, packageRoot, moduleUrl: (name, file) => require('node:url').pathToFileURL(path.join(packageRoot(name), file)).href };
})();`;

/**
 * What the bundle gets for `koffi`: loaded on first use, from LIB_DIR/koffi
 * or else as @tapwire/sys's dependency. koffi's index.js loads https, zlib and
 * crypto for its installer's download code before it loads the native module
 * (10-30 ms of node built-ins a run), and its JS wrapper adds only deprecated
 * aliases, so the native module of this platform is required directly when
 * the package ships one, index.js otherwise. CommonJS, so both `import koffi`
 * and sys's lazy `require('koffi')` get the object; __esModule is answered
 * without loading (esbuild's interop asks for it on import).
 */
export const koffiStub = `
let real;
const load = () => {
  if (real === undefined) {
    const path = require('node:path');
    const fs = require('node:fs');
    const { createRequire } = require('node:module');
    const staged = path.join(__tapwire.lib(), 'koffi', 'index.js');
    let main = fs.existsSync(staged) ? staged : undefined;
    if (main === undefined) {
      try {
        main = createRequire(path.join(__tapwire.packageRoot('@tapwire/sys'), 'package.json')).resolve('koffi');
      } catch {
        throw new Error('koffi not found: neither ' + staged + ' (tapwire cni install writes it) nor in a node_modules above ' + __tapwire.bundleDir());
      }
    }
    const req = createRequire(main);
    const dir = path.dirname(main);
    const native = dir + '/build/koffi/' + process.platform + '_' + process.arch + '/koffi.node';
    let direct;
    try {
      direct = fs.existsSync(native) ? req(native) : undefined;
      if (direct !== undefined && direct.version !== req(dir + '/package.json').version) direct = undefined;
    } catch {
      direct = undefined;
    }
    real = direct ?? req(main);
  }
  return real;
};
module.exports = new Proxy({}, { get: (_t, p) => (p === '__esModule' || typeof p === 'symbol' ? undefined : load()[p]) });
`;

/** The package a module file of ours belongs to (nearest package.json with a name), and its path inside it. */
export const packageOf = (file: string): { readonly name: string; readonly path: string } => {
  for (let d = dirname(file); dirname(d) !== d; d = dirname(d)) {
    const pj = join(d, 'package.json');
    if (!existsSync(pj)) continue;
    const name = (JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string') return { name, path: relative(d, file) };
  }
  throw new Error(`${file} is in no named package (bundled modules of ours need one to be found at run time)`);
};

/** koffi's directory as @tapwire/sys resolves it here. */
const koffiDir = (): string => {
  const sys = createRequire(import.meta.url).resolve('@tapwire/sys');
  return dirname(createRequire(sys).resolve('koffi'));
};

/** Copies under a temp name and renames: a bundle starting meanwhile sees the old file or the new one. */
const place = (from: string, to: string): number => {
  mkdirSync(dirname(to), { recursive: true });
  const tmp = `${to}.tapwire-new-${process.pid}`;
  copyFileSync(from, tmp);
  renameSync(tmp, to);
  return statSync(to).size;
};

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));

export interface StagedLib {
  readonly dir: string;
  readonly bytes: number;
}

/**
 * Writes `<outDir>/tapwire-lib`: koffi (loader, package.json, licence, this
 * platform's prebuilt binary: ~1.6 MB of its 28) and `assets`, files of ours
 * that bundled modules open next to themselves (e.g. device-plugin's api.proto).
 */
export const stageLib = (outDir: string, assets: readonly string[] = []): StagedLib => {
  const lib = join(outDir, LIB_DIR);
  const koffi = koffiDir();
  const triplet = `${process.platform}_${process.arch}`;
  const binary = join(koffi, 'build', 'koffi', triplet);
  if (!existsSync(binary)) throw new Error(`koffi has no prebuilt binary for ${triplet} in ${koffi}`);
  let bytes = 0;
  for (const f of ['index.js', 'package.json', 'LICENSE.txt', ...filesUnder(binary).map((f) => relative(koffi, f))]) {
    bytes += place(join(koffi, f), join(lib, 'koffi', f));
  }
  for (const asset of assets) {
    const pkg = packageOf(asset);
    bytes += place(asset, join(lib, 'packages', pkg.name, pkg.path));
  }
  return { dir: lib, bytes };
};
