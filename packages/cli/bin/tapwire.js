#!/usr/bin/env node
// Thin launcher so the bin link exists before the first build; the CLI is compiled TS.
import { runCli } from '../dist/main.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`tapwire: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
