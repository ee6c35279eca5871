#!/usr/bin/env node
// The tapwire executable. Runs the bundle (dist/tapwire.cjs, one file where
// each command's modules are evaluated only when that command runs; built by
// bin/build-bundle.mjs) when it exists and none of the files it was built from
// changed since, else the compiled modules (dist/main.js).
// Compiling the ~1 MB bundle is most of a start-up, so it is compiled with V8's
// code cache (dist/tapwire.cjs.cache, written by the build, rewritten when this
// node rejects it, e.g. after an upgrade; a cache that cannot be written is skipped).
// TAPWIRE_TRACE_MODULES=1 prints, on exit, the modules the run evaluated (bundle only).
// TAPWIRE_BUNDLE=1 runs the bundle even if stale, TAPWIRE_BUNDLE=0 the compiled modules.
// CommonJS (bin/package.json says so): an ES module entry costs node ~10 ms more to start.
'use strict';
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join, sep } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, '..', 'dist', 'tapwire.cjs');
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
 * In the workspace, a file compiled (`tsc -b`) after the bundle was built
 * makes the bundle stale: then the compiled modules run, not old code. The
 * build lists the files it bundled with their mtime and hash
 * (dist/tapwire.cjs.inputs: ~200 stats, a hash only for a touched file).
 * An installed package ships the bundle without that list (it names the
 * build's checkout): there the bundle came with the modules and cannot go
 * stale, and it finds koffi and its files from its own directory.
 */
const installed = __dirname.split(sep).includes('node_modules');

const bundleIsCurrent = () => {
  const inputs = readOrUndefined(`${bundle}.inputs`, 'utf8');
  if (inputs === undefined) return installed;
  const listed = JSON.parse(inputs);
  let found = 0;
  for (const [file, mtimeMs, sha256] of listed) {
    let now;
    try {
      now = statSync(file).mtimeMs;
    } catch {
      continue; // gone: nothing newer to run
    }
    found += 1;
    if (now === mtimeMs) continue;
    // Touched: stale only if the content changed (tsc -b re-emits unchanged files too).
    const text = readOrUndefined(file);
    if (text === undefined || require('node:crypto').createHash('sha256').update(text).digest('hex') !== sha256) return false;
  }
  // None of its inputs here: built in another checkout (its paths are baked in), not for this one.
  return listed.length === 0 || found > 0;
};

// TAPWIRE_BUNDLE=1 runs the bundle as built even when stale (a bench measures one build), 0 never.
const choice = process.env.TAPWIRE_BUNDLE;
const source = choice === '0' || (choice !== '1' && !bundleIsCurrent()) ? undefined : readOrUndefined(bundle, 'utf8');
if (source !== undefined) {
  runBundle(source);
} else {
  import('../dist/main.js').then(({ runCli }) => runCli(process.argv.slice(2))).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`tapwire: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
