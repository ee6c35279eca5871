// CNI ADD (and DEL, when the API times it) of our plugins next to Debian's Go
// reference plugins, through @tapwire/cni's own measure function. That
// package is optional here: loaded dynamically, skipped with a note when its
// API is missing. It runs in a child process inside a throwaway netns (see
// cni-child.ts); the rounds' own netns are removed by the measure function,
// and by us from the outside if the child dies mid-round.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { track } from './cleanup.js';
import { round } from './stats.js';

const CHILD = fileURLToPath(new URL('./cni-child.js', import.meta.url));
const REFERENCE_DIR = '/usr/lib/cni';

export interface CniTiming {
  readonly scenario: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export type CniResult =
  | { readonly skipped: string }
  | {
      readonly rounds: number;
      readonly nodeStartupMs: number | null;
      readonly timings: readonly CniTiming[];
      /** Our scenario's median over the reference ptp + host-local ADD. */
      readonly ratios: Readonly<Record<string, number | null>>;
      /** Peak RSS (kB) of one call of each kind and of the thick daemon, as measureCniAdd reports them. */
      readonly peakRss: readonly { readonly what: string; readonly kb: number }[];
      readonly notes: readonly string[];
    };

/** Issue 13's targets: a tap + host-local ADD within these multiples of Go ptp's. */
export const CNI_TARGETS = { thick: 2, standalone: 6 } as const;
export const TAP_STANDALONE = 'ours: tap + host-local ADD';
export const TAP_THICK = 'ours thick: tap + host-local ADD (forwarder -> daemon)';

const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : Number.NaN);

const timingOf = (t: unknown): CniTiming | undefined => {
  if (typeof t !== 'object' || t === null) return undefined;
  const r = t as Record<string, unknown>;
  if (typeof r['scenario'] !== 'string') return undefined;
  return { scenario: r['scenario'], medianMs: round(num(r['medianMs'])), minMs: round(num(r['minMs'])), maxMs: round(num(r['maxMs'])) };
};

const netnsNames = async (): Promise<Set<string>> => {
  const r = await execa('ip', ['netns', 'list'], { reject: false });
  return new Set(String(r.stdout).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== ''));
};

/** Netns the measure function names twm + 6 hex; only ones that appeared while our child ran are ours. */
const ROUND_NETNS = /^twm[0-9a-f]{6}$/;

export const runCniBench = async (o: { readonly rounds: number }): Promise<CniResult> => {
  if (!existsSync(`${REFERENCE_DIR}/ptp`) || !existsSync(`${REFERENCE_DIR}/host-local`)) return { skipped: `no reference plugins at ${REFERENCE_DIR} (apt install containernetworking-plugins)` };
  const host = `twbcni${randomBytes(3).toString('hex')}`;
  const before = await netnsNames();
  let child: ReturnType<typeof execa> | undefined;
  const dispose = track(`CNI measure child and netns ${host}`, async () => {
    child?.kill('SIGKILL');
    await child?.catch(() => undefined);
    for (const n of await netnsNames()) if (!before.has(n) && (n === host || ROUND_NETNS.test(n))) await execa('ip', ['netns', 'del', n], { reject: false });
  });
  try {
    await execa('ip', ['netns', 'add', host]);
    child = execa('nsenter', [`--net=/var/run/netns/${host}`, '--', process.execPath, CHILD, String(o.rounds)], { reject: false, stdin: 'ignore' });
    const r = await child;
    if (r.exitCode !== 0) throw new Error(`CNI measure failed (exit ${r.exitCode ?? r.signal ?? '?'}): ${String(r.stderr).trim()}`);
    const out = JSON.parse(String(r.stdout).trim().split('\n').pop() ?? '{}') as { missing?: string; measurement?: Record<string, unknown> };
    if (out.missing !== undefined) return { skipped: out.missing };
    const m = out.measurement ?? {};
    const timings = (Array.isArray(m['timings']) ? m['timings'] : []).map(timingOf).filter((t): t is CniTiming => t !== undefined);
    const reference = timings.find((t) => /reference/i.test(t.scenario));
    const ours = timings.filter((t) => /ours/i.test(t.scenario));
    const peakRss = (Array.isArray(m['peakRss']) ? m['peakRss'] : []).flatMap((p: unknown) => {
      const r = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
      return typeof r['what'] === 'string' && typeof r['kb'] === 'number' ? [{ what: r['what'], kb: r['kb'] }] : [];
    });
    const notes = [
      ...(Array.isArray(m['notes']) ? m['notes'].filter((n): n is string => typeof n === 'string') : []),
      ...(timings.some((t) => /\bDEL\b/.test(t.scenario)) ? [] : ['DEL is not timed: @tapwire/cni measureCniAdd times ADD only (DEL runs untimed in its cleanup)']),
      'standalone, our plugins are Node executables: their ADD includes node start-up (nodeStartupMs), the Go plugins start in a few ms; thick, a C forwarder hands the call to a running daemon',
    ];
    return {
      rounds: num(m['rounds']),
      nodeStartupMs: timingOf(m['nodeStartup'])?.medianMs ?? null,
      timings,
      peakRss,
      ratios: Object.fromEntries(ours.map((t) => [t.scenario, reference === undefined || reference.medianMs <= 0 ? null : round(t.medianMs / reference.medianMs, 2)])),
      notes,
    };
  } finally {
    await dispose();
  }
};
