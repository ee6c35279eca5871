// The scale bench: for each pod size, methods (a) in-process, (b) per-command
// and (c) batch floor on the same netns, interleaved run by run, with the
// netns checked to be exactly as before after every run.
//
// Order matters more than it seems: a method pays for deferred kernel work
// its predecessor left (netdevs and qdiscs being freed), and a fresh pod has
// IPv6 DAD and MLD running on every new link. So every size starts with an
// untimed round of all methods, and run r uses the r-th of the six orders of
// the three methods: over six runs each method follows each other equally
// often (a mere rotation of one order would always put (a) after (c)).
import { isDeepStrictEqual } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { describeNetmodelError, netnsState } from '@tapwire/netmodel';
import { PHASES, type MethodRun, type PhaseFigures } from './clock.js';
import { byHand } from './method-hand.js';
import { inProcess } from './method-in-process.js';
import { makePod, type Pod } from './pod.js';
import { medianOf, ratio, round } from './stats.js';

export const METHODS = ['inProcess', 'perCommand', 'batchFloor'] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Readonly<Record<Method, string>> = {
  inProcess: '(a) tapwire in-process',
  perCommand: '(b) one ip/tc process per operation',
  batchFloor: '(c) floor: ip -batch + tc -batch',
};

export interface ScaleEntry {
  readonly links: number;
  readonly queues: number;
  readonly runs: number;
  /** Medians of the whole sequence: scan, attach, open+close fds, detach. */
  readonly inProcessMs: number;
  readonly perCommandMs: number;
  readonly batchFloorMs: number;
  readonly phasesMs: Readonly<Record<Method, PhaseFigures>>;
  readonly ratios: {
    readonly inProcessVsFloor: number | null;
    readonly perCommandVsFloor: number | null;
    readonly perCommandVsInProcess: number | null;
    /** The attach phase alone (scan, fds and detach excluded). */
    readonly attachInProcessVsFloor: number | null;
  };
  /** Process spawns per run, per phase (the same in every run, else spawnsStable is false). */
  readonly spawns: Readonly<Record<Method, PhaseFigures>>;
  readonly spawnsStable: boolean;
  /** Every run's figures, in run order, to see the spread behind the medians (the host is shared). */
  readonly samplesMs: Readonly<Record<Method, { readonly total: readonly number[]; readonly attach: readonly number[] }>>;
  /** Queue fds opened (and closed) per run. */
  readonly fds: number;
}

export interface ScaleOptions {
  readonly sizes: readonly number[];
  readonly runs: number;
  /** Queues per tap (the spec's 2: multi_queue taps). */
  readonly queues?: number;
  /** One untimed round of every method at every size (fresh pod settling, JIT, page cache). Default true. */
  readonly warmUp?: boolean;
  readonly progress?: (line: string) => void;
}

/** All six orders of the three methods; each ordered pair is adjacent in two of them. */
export const ORDERS: readonly (readonly Method[])[] = [
  ['inProcess', 'perCommand', 'batchFloor'],
  ['batchFloor', 'inProcess', 'perCommand'],
  ['perCommand', 'batchFloor', 'inProcess'],
  ['inProcess', 'batchFloor', 'perCommand'],
  ['perCommand', 'inProcess', 'batchFloor'],
  ['batchFloor', 'perCommand', 'inProcess'],
];

const runMethod = (m: Method, pod: Pod, queues: number): Promise<MethodRun> =>
  m === 'inProcess' ? inProcess(pod, queues) : byHand(pod, queues, m === 'perCommand' ? 'per-command' : 'batch');

const stateOf = async (pod: Pod): Promise<unknown> => {
  const s = await netnsState(pod.ns)();
  if (E.isLeft(s)) throw new Error(`reading ${pod.name}: ${describeNetmodelError(s.left)}`);
  return s.right;
};

const KEYS = [...PHASES, 'total'] as const;

const entryOf = (links: number, queues: number, samples: Readonly<Record<Method, readonly MethodRun[]>>): ScaleEntry => {
  const ms = Object.fromEntries(METHODS.map((m) => [m, medianOf(samples[m].map((r) => r.ms), KEYS)])) as Record<Method, PhaseFigures>;
  const spawns = Object.fromEntries(METHODS.map((m) => [m, medianOf(samples[m].map((r) => r.spawns), KEYS)])) as Record<Method, PhaseFigures>;
  const spawnsStable = METHODS.every((m) => samples[m].every((r) => isDeepStrictEqual(r.spawns, samples[m][0]?.spawns)));
  return {
    links,
    queues,
    runs: samples.inProcess.length,
    inProcessMs: ms.inProcess.total,
    perCommandMs: ms.perCommand.total,
    batchFloorMs: ms.batchFloor.total,
    phasesMs: ms,
    ratios: {
      inProcessVsFloor: ratio(ms.inProcess.total, ms.batchFloor.total),
      perCommandVsFloor: ratio(ms.perCommand.total, ms.batchFloor.total),
      perCommandVsInProcess: ratio(ms.perCommand.total, ms.inProcess.total),
      attachInProcessVsFloor: ratio(ms.inProcess.attach, ms.batchFloor.attach),
    },
    spawns,
    spawnsStable,
    samplesMs: Object.fromEntries(
      METHODS.map((m) => [m, { total: samples[m].map((r) => round(r.ms.total)), attach: samples[m].map((r) => round(r.ms.attach)) }]),
    ) as Record<Method, { total: number[]; attach: number[] }>,
    fds: links * queues,
  };
};

export const runScale = async (o: ScaleOptions): Promise<ScaleEntry[]> => {
  const queues = o.queues ?? 2;
  const say = o.progress ?? (() => undefined);
  const out: ScaleEntry[] = [];
  for (const links of o.sizes) {
    const pod = await makePod(links);
    try {
      const before = await stateOf(pod);
      const once = async (m: Method): Promise<MethodRun> => {
        const r = await runMethod(m, pod, queues);
        if (!isDeepStrictEqual(await stateOf(pod), before)) throw new Error(`${METHOD_LABELS[m]} left ${pod.name} different from how it found it (${links} links)`);
        return r;
      };
      if (o.warmUp !== false) for (const m of METHODS) await once(m);
      const samples: Record<Method, MethodRun[]> = { inProcess: [], perCommand: [], batchFloor: [] };
      for (let r = 0; r < o.runs; r++) {
        const order = ORDERS[r % ORDERS.length] ?? METHODS;
        for (const m of order) samples[m].push(await once(m));
        say(`scale: ${links} links, run ${r + 1}/${o.runs}: ${METHODS.map((m) => `${m} ${Math.round(samples[m].at(-1)?.ms.total ?? NaN)} ms`).join(', ')}`);
      }
      out.push(entryOf(links, queues, samples));
    } finally {
      await pod.dispose();
    }
  }
  return out;
};
