// ADD latency of our bundled plugins next to Debian's Go reference plugins,
// each call timed from spawn to exit as a runtime sees it. Needs root (it
// makes a throwaway netns per round) and cleans up after every round.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { bundlePlugins } from './bundle.js';

export interface MeasureOptions {
  /** Rounds per scenario (default 10). */
  readonly rounds?: number;
  /** Where the reference plugins live (default /usr/lib/cni). */
  readonly referenceDir?: string;
  /** Our bundled plugins; built into a temp dir when absent. */
  readonly binDir?: string;
}

export interface Timing {
  readonly scenario: string;
  readonly samplesMs: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface CniAddMeasurement {
  readonly rounds: number;
  /** `node -e 0`: the floor under any Node plugin on this machine. */
  readonly nodeStartup: Timing;
  readonly timings: readonly Timing[];
}

interface Call {
  readonly ms: number;
  readonly stdout: string;
}

const exec = (file: string, env: NodeJS.ProcessEnv, stdin: string): Call => {
  const start = process.hrtime.bigint();
  const r = spawnSync(file, [], { env, input: stdin, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${file} ${env['CNI_COMMAND'] ?? ''} failed (${String(r.status)}): ${r.stdout}${r.stderr}`);
  return { ms, stdout: r.stdout };
};

const timing = (scenario: string, samples: number[]): Timing => {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { scenario, samplesMs: s.map(r), medianMs: r(median), minMs: r(s[0] ?? 0), maxMs: r(s[s.length - 1] ?? 0) };
};

const ipNetns = (...args: string[]): void => {
  const r = spawnSync('ip', ['netns', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns ${args.join(' ')}: ${r.stderr}`);
};

/** One scenario: a chain of (file, config) run with ADD in order, timed per plugin, then DEL in reverse. */
const chainRound = (chain: readonly { file: string; conf: Record<string, unknown> }[], ipamDir: string): number[] => {
  const ns = `twm${randomBytes(3).toString('hex')}`;
  ipNetns('add', ns);
  const env = { ...process.env, CNI_CONTAINERID: ns, CNI_NETNS: `/var/run/netns/${ns}`, CNI_IFNAME: 'eth0', CNI_PATH: ipamDir };
  const confs: string[] = [];
  try {
    let prev: unknown;
    const ms: number[] = [];
    for (const p of chain) {
      const conf = JSON.stringify(prev === undefined ? p.conf : { ...p.conf, prevResult: prev });
      confs.push(conf);
      const c = exec(p.file, { ...env, CNI_COMMAND: 'ADD' }, conf);
      ms.push(c.ms);
      prev = JSON.parse(c.stdout);
    }
    return ms;
  } finally {
    for (const [i, p] of [...chain.entries()].reverse()) {
      spawnSync(p.file, [], { env: { ...env, CNI_COMMAND: 'DEL' }, input: confs[i] ?? JSON.stringify(p.conf) });
    }
    // Tolerant: the netns may already be gone (a concurrent cleanup); the round's timings stand.
    spawnSync('ip', ['netns', 'del', ns]);
  }
};

/**
 * Times ADD of: ptp + host-local (Go reference), tap + host-local (ours, same
 * IPAM), and tc-redirect-tap chained after ptp (ours, its own ADD only).
 */
export const measureCniAdd = async (opts: MeasureOptions = {}): Promise<CniAddMeasurement> => {
  const rounds = opts.rounds ?? 10;
  const ref = opts.referenceDir ?? '/usr/lib/cni';
  const work = mkdtempSync(join(tmpdir(), 'tapwire-cni-measure-'));
  try {
    const bin = opts.binDir ?? join(work, 'bin');
    if (opts.binDir === undefined) await bundlePlugins(bin, ['tap', 'tc-redirect-tap']);
    const ipam = (net: string, subnet: string) => ({ type: 'host-local', dataDir: join(work, 'ipam'), ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], name: net });
    const base = { cniVersion: '1.0.0' };
    const ptp = { file: join(ref, 'ptp'), conf: { ...base, name: 'mptp', type: 'ptp', ipam: ipam('mptp', '10.231.0.0/16') } };
    const tap = { file: join(bin, 'tap'), conf: { ...base, name: 'mtap', type: 'tap', ipam: ipam('mtap', '10.232.0.0/16') } };
    const chained = { file: join(bin, 'tc-redirect-tap'), conf: { ...base, name: 'mptp', type: 'tc-redirect-tap' } };
    const samples: Record<string, number[]> = { ptp: [], tap: [], chainPtp: [], chainRedirect: [], node: [] };
    for (let i = 0; i < rounds; i += 1) {
      samples['node']?.push(exec(process.execPath, process.env, '').ms);
      samples['ptp']?.push(...chainRound([ptp], ref));
      samples['tap']?.push(...chainRound([tap], ref));
      const [a, b] = chainRound([ptp, chained], ref);
      samples['chainPtp']?.push(a ?? 0);
      samples['chainRedirect']?.push(b ?? 0);
    }
    return {
      rounds,
      nodeStartup: timing('node -e 0 (no script)', samples['node'] ?? []),
      timings: [
        timing('reference: ptp + host-local ADD (Go)', samples['ptp'] ?? []),
        timing('ours: tap + host-local ADD', samples['tap'] ?? []),
        timing('chain ptp -> tc-redirect-tap: ptp ADD (Go)', samples['chainPtp'] ?? []),
        timing('chain ptp -> tc-redirect-tap: tc-redirect-tap ADD (ours)', samples['chainRedirect'] ?? []),
      ],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};
