// `pnpm bench`: runs every section, prints Markdown (or one JSON object with
// --json) and writes the run's RESULTS.md, results.json and scale.svg to a
// temp directory it names; only --write keeps them in docs/bench. Whatever
// happens, everything else the bench made is removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { runBench } from './bench.js';
import { cleanUpOnSignals, disposeAll, track } from './cleanup.js';
import { describeBadFlag, parseFlags, USAGE } from './flags.js';
import { writeRunOutputs } from './outputs.js';
import { envSection, renderMarkdown } from './report.js';
import type { BenchResults } from './results.js';

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const main = async (): Promise<number> => {
  const flags = parseFlags(process.argv.slice(2));
  if (E.isLeft(flags)) {
    say(`bench: ${describeBadFlag(flags.left)}\n${USAGE}`);
    return 2;
  }
  if (flags.right.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    say('bench: needs root: it creates netns, veths, taps, tc rules and VMs (and removes them)');
    return 3;
  }
  cleanUpOnSignals(say);
  // The run's report directory is made under the real temp dir, not the
  // run's own (removed at the end).
  const scratchParent = tmpdir();
  // Every temp file of this run - ours, launchPod's, the CNI measure's and
  // its children's - lands under one directory, removed last whatever happens.
  const benchTmp = mkdtempSync(join(tmpdir(), 'tapwire-bench-'));
  process.env['TMPDIR'] = benchTmp;
  track(`temp dir ${benchTmp}`, () => rmSync(benchTmp, { recursive: true, force: true }));
  let results: BenchResults;
  try {
    results = await runBench(flags.right, say);
  } catch (e) {
    say(`bench: failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    for (const f of await disposeAll()) say(`bench: cleanup failed: ${f}`);
  }
  const dir = writeRunOutputs(results, { write: flags.right.write, scratchParent });
  say(flags.right.write ? `bench: kept this run in ${dir} (RESULTS.md, results.json, scale.svg)` : `bench: this run's RESULTS.md, results.json and scale.svg are in ${dir} (--write keeps a run in docs/bench)`);
  process.stdout.write(flags.right.json ? `${JSON.stringify(results)}\n` : `${envSection(results)}\n\n${renderMarkdown(results)}`);
  return 0;
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    say(`bench: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 70;
  },
);
