#!/usr/bin/env node
// Runs the test suite in two passes with the arguments given to `pnpm test`:
// 1. every *.test.js file, two files at a time (ava.config's concurrency);
// 2. every *.exclusive.test.js file, one at a time and after pass 1, for tests
//    that must own the machine: DPDK testpmd busy-polls a core, and a TCG guest
//    beside it times out. Both passes always run; the exit code is the worst.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readdirSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ava = join(root, 'node_modules', '.bin', 'ava');
const args = process.argv.slice(2);

const pass = (config) => spawnSync(ava, ['--config', join(root, config), ...args], { cwd: root, stdio: 'inherit' });

/** ava exits 1 when a config matches no file, so pass 2 runs only when there is one. */
const hasExclusiveTests = () =>
  readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .some((d) => {
      try {
        return readdirSync(join(root, 'packages', d.name, 'dist'), { recursive: true }).some((f) =>
          String(f).endsWith('.exclusive.test.js'),
        );
      } catch {
        return false;
      }
    });

const code = (r) => (r.status === null ? 1 : r.status);
const shared = code(pass('ava.config.mjs'));
const exclusive = hasExclusiveTests() ? code(pass('ava.exclusive.config.mjs')) : 0;
process.exit(Math.max(shared, exclusive));
