// Wall time of the CLI as a user meets it: a fresh `node tapwire.js ...`
// process each time, node start-up included (and measured alone, so the
// part that is tapwire's own work can be read off). The bundle is built from
// the compiled dist/ at the start of this section into the run's temp dir,
// next to a copy of the bin (the checkout is not written), and run as built
// (TAPWIRE_BUNDLE=1); inspect also runs from the compiled modules
// (TAPWIRE_BUNDLE=0, the checkout's own bin) for scale.
// Beside attach/detach --all: what a person scripts - a bash script with one
// ip/tc process per operation (hand-commands.ts, the same operations) - for
// pods up to SHELL_LOOP_MAX_LINKS. Peak RSS of node -e 0, inspect and
// attach --all through the cni package's peak-rss helper (C, compiled here).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { decodeLinks, type Link, describeEndpointsError } from '@tapwire/endpoints';
import { describeNetmodelError, netnsState, shellQuote } from '@tapwire/netmodel';
import { attachCommands, detachCommands, handTargets, type Argv } from './hand-commands.js';
import { makePod, type Pod } from './pod.js';
import { median, round } from './stats.js';

/** This file is packages/bench/dist/cli-bench.js. */
export const CLI_BIN = fileURLToPath(new URL('../../cli/bin/tapwire.js', import.meta.url));
const CLI_DIR = fileURLToPath(new URL('../../cli/', import.meta.url));
const PEAK_RSS_SOURCE = fileURLToPath(new URL('../../cni/forwarder/peak-rss.c', import.meta.url));

/** A shell loop spawns ~8 processes a link: beyond this the section would take minutes a run. */
export const SHELL_LOOP_MAX_LINKS = 64;

export interface CliEntry {
  readonly links: number;
  readonly runs: number;
  readonly inspectMs: number;
  /** inspect from the compiled modules, not the bundle. */
  readonly inspectModulesMs: number;
  readonly attachAllMs: number;
  readonly detachAllMs: number;
  /** bash, one ip/tc process per operation (null above SHELL_LOOP_MAX_LINKS). */
  readonly shellLoopAttachMs: number | null;
  readonly shellLoopDetachMs: number | null;
  /** shell loop attach over attach --all: how many times faster the CLI is. */
  readonly attachSpeedup: number | null;
}

export interface CliResult {
  /** `node -e 0`: the start-up every CLI call pays before tapwire runs. */
  readonly nodeStartMs: number;
  readonly queues: number;
  /** The bundle the bin ran (null: not built, the compiled modules ran; note says why). */
  readonly bundleBytes: number | null;
  readonly bundleNote: string | null;
  readonly bySize: readonly CliEntry[];
  /** kB; null when the peak-rss helper could not be built. */
  readonly peakRssKb: { readonly nodeE0: number; readonly inspect: number; readonly attachAll: number; readonly links: number } | null;
}

const timed = async (args: readonly string[], env: Record<string, string> = {}): Promise<number> => {
  const t = performance.now();
  const r = await execa(process.execPath, args, { reject: false, stdin: 'ignore', env });
  const ms = performance.now() - t;
  if (r.exitCode !== 0) throw new Error(`node ${args.join(' ')}: exit ${r.exitCode ?? r.signal ?? '?'}: ${String(r.stderr).trim()}`);
  return ms;
};

const timedShell = async (script: string): Promise<number> => {
  const t = performance.now();
  const r = await execa('bash', ['-e', script], { reject: false, stdin: 'ignore' });
  const ms = performance.now() - t;
  if (r.exitCode !== 0) throw new Error(`bash ${script}: exit ${r.exitCode ?? r.signal ?? '?'}: ${String(r.stderr).trim()}`);
  return ms;
};

const stateOf = async (pod: Pod): Promise<unknown> => {
  const s = await netnsState(pod.ns)();
  if (E.isLeft(s)) throw new Error(`reading ${pod.name}: ${describeNetmodelError(s.left)}`);
  return s.right;
};

const BUNDLED = { TAPWIRE_BUNDLE: '1' };
const MODULES = { TAPWIRE_BUNDLE: '0' };

/** The scripts a person writes: scan, then one ip/tc process per operation (attach), and the undo (detach). */
const shellScripts = async (pod: Pod, queues: number, dir: string): Promise<{ attach: string; detach: string }> => {
  const r = await execa('ip', ['-n', pod.name, '-j', '-d', 'addr', 'show'], { reject: false });
  const links = decodeLinks(String(r.stdout));
  if (E.isLeft(links)) throw new Error(`shell loop scan: ${describeEndpointsError(links.left)}`);
  const targets: readonly Link[] = handTargets(links.right);
  const line = (tool: 'ip' | 'tc', argv: Argv): string => [tool, '-n', pod.name, ...argv].map(shellQuote).join(' ');
  const attach = [
    `ip -n ${shellQuote(pod.name)} -j -d addr show >/dev/null`,
    ...targets.flatMap((l) => attachCommands(l, queues).flatMap(({ tool, argv }) => argv.map((a) => line(tool, a)))),
  ];
  const undo = detachCommands(targets);
  const detach = [...undo.tc.map((a) => line('tc', a)), ...undo.ip.map((a) => line('ip', a))];
  const files = { attach: join(dir, `attach-${pod.name}.sh`), detach: join(dir, `detach-${pod.name}.sh`) };
  writeFileSync(files.attach, `${attach.join('\n')}\n`);
  writeFileSync(files.detach, `${detach.join('\n')}\n`);
  return files;
};

interface Built {
  /** The bin to run: the temp copy next to the bundle, or the checkout's when no bundle was built. */
  readonly bin: string;
  readonly bytes: number | null;
  readonly note: string | null;
}

/** The bundle and a copy of the bin under `dir` (dist/main.js links to the checkout's, the bin's fallback). */
const buildBundle = (dir: string): Built => {
  const out = join(dir, 'dist', 'tapwire.cjs');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const r = spawnSync(process.execPath, [join(CLI_DIR, 'bin', 'build-bundle.mjs'), out], { encoding: 'utf8' });
  if (r.status !== 0) return { bin: CLI_BIN, bytes: null, note: `bundle not built (${r.stderr.trim().split('\n').pop() ?? ''}): the compiled modules ran` };
  for (const f of ['tapwire.js', 'package.json']) copyFileSync(join(CLI_DIR, 'bin', f), join(dir, 'bin', f));
  symlinkSync(join(CLI_DIR, 'dist', 'main.js'), join(dir, 'dist', 'main.js'));
  const bin = join(dir, 'bin', 'tapwire.js');
  // Writes the V8 code cache next to the bundle, as the first run of an install would.
  spawnSync(process.execPath, [bin, '--help'], { stdio: 'ignore', env: { ...process.env, ...BUNDLED } });
  return { bin, bytes: statSync(out).size, note: null };
};

const peakRssOf = (helper: string, args: readonly string[]): number => {
  const r = spawnSync(helper, [process.execPath, ...args], { encoding: 'utf8', env: { ...process.env, ...BUNDLED } });
  const m = /peak-rss-kb (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || m?.[1] === undefined) throw new Error(`peak-rss node ${args.join(' ')}: exit ${r.status ?? '?'}: ${r.stderr.trim()}`);
  return Number(m[1]);
};

export const runCliBench = async (o: { readonly sizes: readonly number[]; readonly runs: number; readonly queues?: number; readonly progress?: (line: string) => void }): Promise<CliResult> => {
  const queues = o.queues ?? 2;
  const scratch = mkdtempSync(join(tmpdir(), 'tapwire-cli-bench-'));
  const bundle = buildBundle(join(scratch, 'cli'));
  const bundled = bundle.bytes === null ? MODULES : BUNDLED;
  const BIN = bundle.bin;
  const helper = join(scratch, 'peak-rss');
  const haveHelper = spawnSync('cc', ['-O2', '-o', helper, PEAK_RSS_SOURCE]).status === 0;
  const nodeStart: number[] = [];
  const bySize: CliEntry[] = [];
  let peakRssKb: CliResult['peakRssKb'] = null;
  await timed(['-e', '0']); // warm the page cache for node itself
  for (const links of o.sizes) {
    const pod = await makePod(links);
    try {
      const before = await stateOf(pod);
      const loop = links <= SHELL_LOOP_MAX_LINKS ? await shellScripts(pod, queues, scratch) : undefined;
      const s = { inspect: [] as number[], modules: [] as number[], attach: [] as number[], detach: [] as number[], loopAttach: [] as number[], loopDetach: [] as number[] };
      let attached = false;
      try {
        for (let r = 0; r < o.runs; r++) {
          nodeStart.push(await timed(['-e', '0']));
          s.inspect.push(await timed([BIN, 'inspect', pod.name, '--json'], bundled));
          s.modules.push(await timed([CLI_BIN, 'inspect', pod.name, '--json'], MODULES));
          attached = true;
          s.attach.push(await timed([BIN, 'attach', pod.name, '--all', '--queues', String(queues)], bundled));
          s.detach.push(await timed([BIN, 'detach', pod.name, '--all'], bundled));
          attached = false;
          if (!isDeepStrictEqual(await stateOf(pod), before)) throw new Error(`tapwire attach/detach --all left ${pod.name} different from how it found it`);
          if (loop !== undefined) {
            attached = true;
            s.loopAttach.push(await timedShell(loop.attach));
            s.loopDetach.push(await timedShell(loop.detach));
            attached = false;
            if (!isDeepStrictEqual(await stateOf(pod), before)) throw new Error(`the shell loop left ${pod.name} different from how it found it`);
          }
          o.progress?.(
            `cli: ${links} links, run ${r + 1}/${o.runs}: inspect ${Math.round(s.inspect.at(-1) ?? NaN)} ms (modules ${Math.round(s.modules.at(-1) ?? NaN)}), ` +
              `attach --all ${Math.round(s.attach.at(-1) ?? NaN)} ms (shell loop ${Math.round(s.loopAttach.at(-1) ?? NaN)}), detach --all ${Math.round(s.detach.at(-1) ?? NaN)} ms`,
          );
        }
        if (haveHelper && peakRssKb === null) {
          peakRssKb = { nodeE0: peakRssOf(helper, ['-e', '0']), inspect: peakRssOf(helper, [BIN, 'inspect', pod.name, '--json']), attachAll: 0, links };
          attached = true;
          peakRssKb = { ...peakRssKb, attachAll: peakRssOf(helper, [BIN, 'attach', pod.name, '--all', '--queues', String(queues)]) };
          await timed([BIN, 'detach', pod.name, '--all'], bundled);
          attached = false;
        }
      } finally {
        if (attached) await execa(process.execPath, [CLI_BIN, 'detach', pod.name, '--all'], { reject: false });
      }
      const loopAttachMs = s.loopAttach.length === 0 ? null : round(median(s.loopAttach));
      const attachAllMs = round(median(s.attach));
      bySize.push({
        links,
        runs: o.runs,
        inspectMs: round(median(s.inspect)),
        inspectModulesMs: round(median(s.modules)),
        attachAllMs,
        detachAllMs: round(median(s.detach)),
        shellLoopAttachMs: loopAttachMs,
        shellLoopDetachMs: s.loopDetach.length === 0 ? null : round(median(s.loopDetach)),
        attachSpeedup: loopAttachMs === null || attachAllMs <= 0 ? null : round(loopAttachMs / attachAllMs, 2),
      });
    } finally {
      await pod.dispose();
    }
  }
  return { nodeStartMs: round(median(nodeStart)), queues, bundleBytes: bundle.bytes, bundleNote: bundle.note, bySize, peakRssKb };
};
