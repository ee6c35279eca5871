// ADD latency of our bundled plugins next to Debian's Go reference plugins,
// each call timed from spawn to exit as a runtime sees it: standalone (a Node
// executable per call) and thick (the C forwarder handing the call to a
// daemon started here, bundled like the plugins). Also the peak RSS of one
// call of each and of the daemon. Needs root (it makes a throwaway netns per
// round) and cleans up after every round; the daemon is stopped at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { bundlePlugins } from './bundle.js';
import { stageLib } from './bundle-runtime.js';
import { bundleExecutable } from './bundler.js';
import { describeForwarderError, installForwarders } from './thick/forwarder.js';

export interface MeasureOptions {
  /** Rounds per scenario (default 10). */
  readonly rounds?: number;
  /** Where the reference plugins live (default /usr/lib/cni). */
  readonly referenceDir?: string;
  /** Our bundled plugins; built into a temp dir when absent. */
  readonly binDir?: string;
  /** Measure the thick mode too (default true; skipped with a note when no C compiler). */
  readonly thick?: boolean;
}

/** Peak resident set of one process, kB (a call: its largest process, the plugin itself). */
export interface PeakRss {
  readonly what: string;
  readonly kb: number;
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
  readonly peakRss: readonly PeakRss[];
  readonly notes: readonly string[];
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

const PEAK_RSS_SOURCE = join(dirname(fileURLToPath(import.meta.url)), '..', 'forwarder', 'peak-rss.c');

/** forwarder/peak-rss.c compiled into `dir`; undefined without a C compiler. */
const buildPeakRss = (dir: string): string | undefined => {
  const out = join(dir, 'peak-rss');
  const r = spawnSync('cc', ['-O2', '-o', out, PEAK_RSS_SOURCE], { encoding: 'utf8' });
  return r.status === 0 ? out : undefined;
};

/** The peak RSS (kB) of one call of `file`, through peak-rss. */
const rssOf = (peakRss: string, file: string, env: NodeJS.ProcessEnv, stdin: string): number | undefined => {
  const r = spawnSync(peakRss, [file], { env, input: stdin, encoding: 'utf8' });
  const m = /peak-rss-kb (\d+)\s*$/.exec(r.stderr);
  return r.status === 0 && m?.[1] !== undefined ? Number(m[1]) : undefined;
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
const chainRound = (chain: readonly { file: string; conf: Record<string, unknown> }[], ipamDir: string, rss?: (file: string, env: NodeJS.ProcessEnv, stdin: string) => void): number[] => {
  const ns = `twm${randomBytes(3).toString('hex')}`;
  ipNetns('add', ns);
  const env = { ...process.env, CNI_CONTAINERID: ns, CNI_NETNS: `/var/run/netns/${ns}`, CNI_IFNAME: 'eth0', CNI_PATH: ipamDir };
  const confs: string[] = [];
  try {
    let prev: unknown;
    const ms: number[] = [];
    for (const [i, p] of chain.entries()) {
      const conf = JSON.stringify(prev === undefined ? p.conf : { ...p.conf, prevResult: prev });
      confs.push(conf);
      if (rss !== undefined && i === chain.length - 1) {
        // Peak RSS of this ADD (not timed: the wrapper is in the way), then DEL so the timed ADD starts clean.
        rss(p.file, { ...env, CNI_COMMAND: 'ADD' }, conf);
        spawnSync(p.file, [], { env: { ...env, CNI_COMMAND: 'DEL' }, input: conf });
      }
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

const DAEMON_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'entry', 'daemon.js');

interface ThickSide {
  readonly bin: string;
  readonly pid: number;
  readonly stop: () => Promise<void>;
}

/** The daemon bundled like the plugins, its forwarders, the daemon started on a socket in `work`. */
const startThick = async (work: string): Promise<E.Either<string, ThickSide>> => {
  const bin = join(work, 'thick');
  const socket = join(work, 'cni.sock');
  const installed = installForwarders(bin, socket, ['tap', 'tc-redirect-tap']);
  if (E.isLeft(installed)) return E.left(describeForwarderError(installed.left));
  const daemon = join(work, 'tapwire-cni-daemon');
  await bundleExecutable({ entry: { file: DAEMON_ENTRY }, outfile: daemon, title: 'tapwire CNI daemon' });
  stageLib(work); // koffi beside the daemon: the bundle finds it there (bundle-runtime.ts)
  const child: ChildProcess = spawn(process.execPath, [daemon, '--socket', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  const up = await new Promise<boolean>((resolve) => {
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString('utf8');
      if (log.includes('listening on')) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  if (!up) {
    await stop();
    return E.left(`the daemon did not start: ${log.trim()}`);
  }
  return E.right({ bin, pid: child.pid ?? 0, stop });
};

/** VmHWM of a live process, kB. */
const peakOfPid = (pid: number): number | undefined => {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

/**
 * Times ADD of: ptp + host-local (Go reference), tap + host-local (ours, same
 * IPAM), and tc-redirect-tap chained after ptp (ours, its own ADD only); each
 * of ours standalone and, unless opted out or no C compiler, thick. One
 * untimed warm-up round first (page cache, the daemon's first-call JIT).
 */
export const measureCniAdd = async (opts: MeasureOptions = {}): Promise<CniAddMeasurement> => {
  const rounds = opts.rounds ?? 10;
  const ref = opts.referenceDir ?? '/usr/lib/cni';
  const work = mkdtempSync(join(tmpdir(), 'tapwire-cni-measure-'));
  let thick: ThickSide | undefined;
  const notes: string[] = [];
  try {
    const bin = opts.binDir ?? join(work, 'bin');
    if (opts.binDir === undefined) await bundlePlugins(bin, ['tap', 'tc-redirect-tap']);
    if (opts.thick !== false) {
      const t = await startThick(work);
      if (E.isLeft(t)) notes.push(`thick mode not measured: ${t.left}`);
      else thick = t.right;
    }
    const ipam = (net: string, subnet: string) => ({ type: 'host-local', dataDir: join(work, 'ipam'), ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], name: net });
    const base = { cniVersion: '1.0.0' };
    const ptp = { file: join(ref, 'ptp'), conf: { ...base, name: 'mptp', type: 'ptp', ipam: ipam('mptp', '10.231.0.0/16') } };
    const tap = { file: join(bin, 'tap'), conf: { ...base, name: 'mtap', type: 'tap', ipam: ipam('mtap', '10.232.0.0/16') } };
    const chained = { file: join(bin, 'tc-redirect-tap'), conf: { ...base, name: 'mptp', type: 'tc-redirect-tap' } };
    const tapThick = thick === undefined ? undefined : { ...tap, file: join(thick.bin, 'tap') };
    const chainedThick = thick === undefined ? undefined : { ...chained, file: join(thick.bin, 'tc-redirect-tap') };
    const samples: Record<string, number[]> = { ptp: [], tap: [], tapThick: [], chainPtp: [], chainRedirect: [], chainRedirectThick: [], node: [] };
    const peak: Record<string, number> = {};
    const peakRss = buildPeakRss(work);
    const keepPeak = (what: string) => (file: string, env: NodeJS.ProcessEnv, stdin: string): void => {
      const kb = peakRss === undefined ? undefined : rssOf(peakRss, file, env, stdin);
      if (kb !== undefined) peak[what] = Math.max(peak[what] ?? 0, kb);
    };
    for (let i = -1; i < rounds; i += 1) {
      const warm = i < 0;
      const rss = (what: string) => (warm ? keepPeak(what) : undefined);
      const node = exec(process.execPath, process.env, '').ms;
      const p = chainRound([ptp], ref, rss('reference ptp ADD (Go)'));
      const s = chainRound([tap], ref, rss('ours standalone tap ADD (node)'));
      const k = tapThick === undefined ? [] : chainRound([tapThick], ref, rss('ours thick tap ADD (the C forwarder)'));
      const [a, b] = chainRound([ptp, chained], ref);
      const [, c] = chainedThick === undefined ? [] : chainRound([ptp, chainedThick], ref);
      if (warm) continue;
      samples['node']?.push(node);
      samples['ptp']?.push(...p);
      samples['tap']?.push(...s);
      samples['tapThick']?.push(...k);
      samples['chainPtp']?.push(a ?? 0);
      samples['chainRedirect']?.push(b ?? 0);
      if (c !== undefined) samples['chainRedirectThick']?.push(c);
    }
    const daemonPeak = thick === undefined ? undefined : peakOfPid(thick.pid);
    if (Object.keys(peak).length === 0) notes.push('peak RSS of the calls not measured (no C compiler for forwarder/peak-rss.c)');
    return {
      rounds,
      nodeStartup: timing('node -e 0 (no script)', samples['node'] ?? []),
      timings: [
        timing('reference: ptp + host-local ADD (Go)', samples['ptp'] ?? []),
        timing('ours: tap + host-local ADD', samples['tap'] ?? []),
        ...(thick === undefined ? [] : [timing('ours thick: tap + host-local ADD (forwarder -> daemon)', samples['tapThick'] ?? [])]),
        timing('chain ptp -> tc-redirect-tap: ptp ADD (Go)', samples['chainPtp'] ?? []),
        timing('chain ptp -> tc-redirect-tap: tc-redirect-tap ADD (ours)', samples['chainRedirect'] ?? []),
        ...(thick === undefined ? [] : [timing('chain ptp -> tc-redirect-tap: tc-redirect-tap ADD (ours thick)', samples['chainRedirectThick'] ?? [])]),
      ],
      peakRss: [
        ...Object.entries(peak).map(([what, kb]) => ({ what, kb })),
        ...(daemonPeak === undefined ? [] : [{ what: `ours thick: the daemon after ${rounds + 1} rounds`, kb: daemonPeak }]),
      ],
      notes,
    };
  } finally {
    await thick?.stop();
    rmSync(work, { recursive: true, force: true });
  }
};
