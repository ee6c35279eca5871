// Wall time of the CLI as a user meets it: a fresh `node tapwire.js ...`
// process each time, node start-up included (and measured alone, so the
// part that is tapwire's own work can be read off).
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { describeNetmodelError, netnsState } from '@tapwire/netmodel';
import { makePod, type Pod } from './pod.js';
import { median, round } from './stats.js';

/** This file is packages/bench/dist/cli-bench.js. */
export const CLI_BIN = fileURLToPath(new URL('../../cli/bin/tapwire.js', import.meta.url));

export interface CliEntry {
  readonly links: number;
  readonly runs: number;
  readonly inspectMs: number;
  readonly attachAllMs: number;
  readonly detachAllMs: number;
}

export interface CliResult {
  /** `node -e 0`: the start-up every CLI call pays before tapwire runs. */
  readonly nodeStartMs: number;
  readonly queues: number;
  readonly bySize: readonly CliEntry[];
}

const timed = async (args: readonly string[]): Promise<number> => {
  const t = performance.now();
  const r = await execa(process.execPath, args, { reject: false, stdin: 'ignore' });
  const ms = performance.now() - t;
  if (r.exitCode !== 0) throw new Error(`node ${args.join(' ')}: exit ${r.exitCode ?? r.signal ?? '?'}: ${String(r.stderr).trim()}`);
  return ms;
};

const stateOf = async (pod: Pod): Promise<unknown> => {
  const s = await netnsState(pod.ns)();
  if (E.isLeft(s)) throw new Error(`reading ${pod.name}: ${describeNetmodelError(s.left)}`);
  return s.right;
};

export const runCliBench = async (o: { readonly sizes: readonly number[]; readonly runs: number; readonly queues?: number; readonly progress?: (line: string) => void }): Promise<CliResult> => {
  const queues = o.queues ?? 2;
  const nodeStart: number[] = [];
  const bySize: CliEntry[] = [];
  await timed(['-e', '0']); // warm the page cache for node itself
  for (const links of o.sizes) {
    const pod = await makePod(links);
    try {
      const before = await stateOf(pod);
      const inspect: number[] = [];
      const attach: number[] = [];
      const detach: number[] = [];
      let attached = false;
      try {
        for (let r = 0; r < o.runs; r++) {
          nodeStart.push(await timed(['-e', '0']));
          inspect.push(await timed([CLI_BIN, 'inspect', pod.name, '--json']));
          attached = true;
          attach.push(await timed([CLI_BIN, 'attach', pod.name, '--all', '--queues', String(queues)]));
          detach.push(await timed([CLI_BIN, 'detach', pod.name, '--all']));
          attached = false;
          if (!isDeepStrictEqual(await stateOf(pod), before)) throw new Error(`tapwire attach/detach --all left ${pod.name} different from how it found it`);
          o.progress?.(`cli: ${links} links, run ${r + 1}/${o.runs}: inspect ${Math.round(inspect.at(-1) ?? NaN)} ms, attach --all ${Math.round(attach.at(-1) ?? NaN)} ms, detach --all ${Math.round(detach.at(-1) ?? NaN)} ms`);
        }
      } finally {
        if (attached) await execa(process.execPath, [CLI_BIN, 'detach', pod.name, '--all'], { reject: false });
      }
      bySize.push({ links, runs: o.runs, inspectMs: round(median(inspect)), attachAllMs: round(median(attach)), detachAllMs: round(median(detach)) });
    } finally {
      await pod.dispose();
    }
  }
  return { nodeStartMs: round(median(nodeStart)), queues, bySize };
};
