// Where a run's report goes. Only --write touches the repo (docs/bench, the
// kept results); any other run writes its report, data and chart to a fresh
// directory under the system temp dir, so measuring never dirties the tree.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envSection, renderMarkdown } from './report.js';
import type { BenchResults } from './results.js';
import { renderResultsSvg } from './svg.js';

/** The kept results, tracked in git. This file is packages/bench/dist/outputs.js. */
export const DOCS_DIR = fileURLToPath(new URL('../../../docs/bench/', import.meta.url));

export const OUTPUT_FILES = ['RESULTS.md', 'results.json', 'scale.svg'] as const;

const resultsMarkdown = (r: BenchResults, kept: boolean): string =>
  [
    '# tapwire benchmark results',
    '',
    (kept
      ? 'Written by `pnpm bench -- --write` (root; see packages/bench).'
      : 'Written by `pnpm bench` (root; see packages/bench) to a temp directory: `--write` keeps a run in docs/bench.') +
      ' Every figure below comes from the one run described under Environment; results.json next to this file holds the same run as data, scale.svg charts it.',
    '',
    envSection(r),
    '',
    renderMarkdown(r),
  ].join('\n');

export interface OutputTarget {
  /** --write: keep the run in docsDir. */
  readonly write: boolean;
  /** Default DOCS_DIR; tests point it elsewhere. */
  readonly docsDir?: string;
  /** Where a directory for an unkept run is made; default the system temp dir. */
  readonly scratchParent?: string;
}

/** Writes RESULTS.md, results.json and scale.svg; returns the directory they are in. */
export const writeRunOutputs = (r: BenchResults, to: OutputTarget): string => {
  const dir = to.write ? (to.docsDir ?? DOCS_DIR) : mkdtempSync(join(to.scratchParent ?? tmpdir(), 'tapwire-bench-run-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'RESULTS.md'), resultsMarkdown(r, to.write));
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(dir, 'scale.svg'), renderResultsSvg(r));
  return dir;
};
