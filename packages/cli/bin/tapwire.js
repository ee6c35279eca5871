#!/usr/bin/env node
// The tapwire executable. Runs the bundle (dist/tapwire.cjs, one file where
// each command's modules are evaluated only when that command runs; built by
// bin/build-bundle.js) when it exists and no package was compiled after it,
// else the compiled modules (dist/main.js).
// Compiling the ~1 MB bundle is most of a start-up, so it is compiled with V8's
// code cache (dist/tapwire.cjs.cache, written by the build, rewritten when this
// node rejects it, e.g. after an upgrade; a cache that cannot be written is skipped).
// TAPWIRE_TRACE_MODULES=1 prints, on exit, the modules the run evaluated (bundle only).
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const bundle = fileURLToPath(new URL('../dist/tapwire.cjs', import.meta.url));
const cacheFile = `${bundle}.cache`;

if (process.env.TAPWIRE_TRACE_MODULES === '1') {
  globalThis.__tapwireModules = [];
  process.on('exit', () => process.stderr.write(`tapwire-modules ${JSON.stringify(globalThis.__tapwireModules)}\n`));
}

const readOrUndefined = (file, encoding) => {
  try {
    return readFileSync(file, encoding);
  } catch {
    return undefined;
  }
};

const writeCache = (script) => {
  try {
    writeFileSync(`${cacheFile}.${process.pid}`, script.createCachedData());
    renameSync(`${cacheFile}.${process.pid}`, cacheFile);
  } catch {
    // a read-only install runs without a cache
  }
};

/** Runs the bundle as CommonJS module `file` (it runs the CLI on process.argv itself). */
const runBundle = (source) => {
  const cachedData = readOrUndefined(cacheFile);
  const script = new Script(Module.wrap(source.replace(/^#!.*/, '')), { filename: bundle, ...(cachedData === undefined ? {} : { cachedData }) });
  if (cachedData === undefined || script.cachedDataRejected === true || process.env.TAPWIRE_WRITE_CODE_CACHE === '1') {
    process.once('exit', () => writeCache(script));
  }
  const m = new Module(bundle);
  m.filename = bundle;
  m.paths = Module._nodeModulePaths(dirname(bundle));
  script.runInThisContext()(m.exports, (id) => m.require(id), m, bundle, dirname(bundle));
};

/**
 * In the workspace, a package compiled (`tsc -b`) after the bundle was built
 * makes the bundle stale: then the compiled modules run, not old code.
 * (An install from the registry has no tsbuildinfo files: the bundle runs.)
 */
const bundleIsCurrent = () => {
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  const packages = fileURLToPath(new URL('../../', import.meta.url));
  let names = [];
  try {
    names = readdirSync(packages);
  } catch {
    return true;
  }
  for (const name of names) {
    try {
      if (statSync(join(packages, name, 'tsconfig.tsbuildinfo')).mtimeMs > built) return false;
    } catch {
      // not a compiled package
    }
  }
  return true;
};

const source = bundleIsCurrent() ? readOrUndefined(bundle, 'utf8') : undefined;
if (source !== undefined) {
  runBundle(source);
} else {
  const { runCli } = await import('../dist/main.js');
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`tapwire: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
