// The bench's command line; bad input names the flag and what was expected.
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';

export interface BenchFlags {
  readonly sizes: readonly number[];
  readonly runs: number;
  /** TCG boots take seconds each: at most 3 runs per side, fewer if --runs is lower. */
  readonly bootRuns: number;
  readonly boot: boolean;
  readonly cni: boolean;
  readonly json: boolean;
  readonly write: boolean;
  readonly help: boolean;
}

export interface BadFlag {
  readonly _tag: 'BadFlag';
  readonly flag: string;
  readonly input: string;
  readonly expected: string;
}

export const DEFAULT_SIZES = [1, 8, 64, 256] as const;
/** Six: every order of the three scale methods once (see scale.ts). */
export const DEFAULT_RUNS = 6;
export const MAX_BOOT_RUNS = 3;
const MAX_LINKS = 4096;

export const USAGE = `usage: pnpm bench [-- options]     (root: it makes netns, taps and VMs)
  --sizes 1,8,64,256   pod sizes (veth links) for the scale and CLI benches
  --runs N             runs per method and size, medians reported (default ${DEFAULT_RUNS}; boot: min(N, ${MAX_BOOT_RUNS}))
  --no-boot            skip the guest boot bench (TCG boots take seconds each)
  --no-cni             skip the CNI bench
  --json               print one JSON object instead of Markdown (progress goes to stderr)
  --write              keep the run in docs/bench (RESULTS.md, results.json, scale.svg)
Without --write nothing in the repo is written: the run's report, data and chart
go to a new directory under the temp dir, named on stderr.`;

export const describeBadFlag = (e: BadFlag): string => `${e.flag} ${JSON.stringify(e.input)}: expected ${e.expected}`;

const parseSizes = (text: string): E.Either<BadFlag, number[]> => {
  const bad = (): E.Either<BadFlag, number[]> => E.left({ _tag: 'BadFlag', flag: '--sizes', input: text, expected: `a comma-separated list of distinct integers 1..${MAX_LINKS}, e.g. 1,8,64` });
  const parts = text.split(',');
  if (!parts.every((p) => /^[1-9][0-9]{0,3}$/.test(p))) return bad();
  const sizes = parts.map(Number);
  if (sizes.some((n) => n > MAX_LINKS) || new Set(sizes).size !== sizes.length) return bad();
  return E.right(sizes);
};

const parseRuns = (text: string): E.Either<BadFlag, number> =>
  /^[1-9][0-9]?$/.test(text) ? E.right(Number(text)) : E.left({ _tag: 'BadFlag', flag: '--runs', input: text, expected: 'an integer 1..99' });

export const parseFlags = (argv: readonly string[]): E.Either<BadFlag, BenchFlags> => {
  // `pnpm bench -- --write` hands the script a literal '--' first.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: false,
      options: {
        sizes: { type: 'string' },
        runs: { type: 'string' },
        'no-boot': { type: 'boolean', default: false },
        'no-cni': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        write: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    return E.left({ _tag: 'BadFlag', flag: 'command line', input: args.join(' '), expected: `the options below (${e instanceof Error ? e.message : String(e)})` });
  }
  const v = parsed.values;
  const sizes = v.sizes === undefined ? E.right([...DEFAULT_SIZES]) : parseSizes(v.sizes);
  if (E.isLeft(sizes)) return sizes;
  const runs = v.runs === undefined ? E.right(DEFAULT_RUNS) : parseRuns(v.runs);
  if (E.isLeft(runs)) return runs;
  return E.right({
    sizes: sizes.right,
    runs: runs.right,
    bootRuns: Math.min(runs.right, MAX_BOOT_RUNS),
    boot: v['no-boot'] !== true,
    cni: v['no-cni'] !== true,
    json: v.json === true,
    write: v.write === true,
    help: v.help === true,
  });
};
