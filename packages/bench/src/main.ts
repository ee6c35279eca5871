// `pnpm bench`: runs every section, prints Markdown (or one JSON object with
// --json), rewrites docs/bench/scale.svg, and with --write keeps RESULTS.md
// and results.json. Whatever happens, everything the bench made is removed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { runBench } from './bench.js';
import { cleanUpOnSignals, disposeAll, track } from './cleanup.js';
import { describeBadFlag, parseFlags, USAGE } from './flags.js';
import { envSection, renderMarkdown } from './report.js';
import type { BenchResults } from './results.js';
import { renderResultsSvg } from './svg.js';

/** This file is packages/bench/dist/main.js. */
export const DOCS_DIR = fileURLToPath(new URL('../../../docs/bench/', import.meta.url));

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const resultsMarkdown = (r: BenchResults): string =>
  [
    '# tapwire benchmark results',
    '',
    'Written by `pnpm bench -- --write` (root; see packages/bench). Every figure below comes from the one run described under Environment; ' +
      'results.json next to this file holds the same run as data, scale.svg charts it.',
    '',
    envSection(r),
    '',
    renderMarkdown(r),
  ].join('\n');

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
  mkdirSync(DOCS_DIR, { recursive: true });
  writeFileSync(`${DOCS_DIR}scale.svg`, renderResultsSvg(results));
  if (flags.right.write) {
    writeFileSync(`${DOCS_DIR}RESULTS.md`, resultsMarkdown(results));
    writeFileSync(`${DOCS_DIR}results.json`, `${JSON.stringify(results, null, 2)}\n`);
    say(`bench: wrote ${DOCS_DIR}RESULTS.md, results.json and scale.svg`);
  } else {
    say(`bench: wrote ${DOCS_DIR}scale.svg (--write also keeps RESULTS.md and results.json)`);
  }
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
