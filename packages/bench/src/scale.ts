// The scale bench: for each pod size, methods (a) in-process with the ip/tc
// executor, (a2) in-process with the netlink executor, (b) per-command, (c)
// batch floor and (d) pyroute2 (per-operation netlink from Python) on the
// same netns, interleaved run by run, with the netns checked to be exactly as
// before after every run.
//
// Order matters more than it seems: a method pays for deferred kernel work
// its predecessor left (netdevs and qdiscs being freed), and a fresh pod has
// IPv6 DAD and MLD running on every new link. So every size starts with an
// untimed round of all methods, and run r takes the methods rotated by r,
// reversed every other run, so no method always follows the same one.
import { isDeepStrictEqual } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { describeNetmodelError, netnsState } from '@tapwire/netmodel';
import { PHASES, type MethodRun, type PhaseFigures } from './clock.js';
import { byHand } from './method-hand.js';
import { inProcess } from './method-in-process.js';
import { pyroute2Available, viaPyroute2 } from './pyroute2-method.js';
import { makePod, type Pod } from './pod.js';
import { medianOf, ratio, round } from './stats.js';

export const METHODS = ['inProcess', 'netlink', 'perCommand', 'batchFloor', 'pyroute2'] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Readonly<Record<Method, string>> = {
  inProcess: '(a) tapwire in-process, ip/tc executor',
  netlink: '(a2) tapwire in-process, netlink executor',
  perCommand: '(b) one ip/tc process per operation',
  batchFloor: '(c) floor: ip -batch + tc -batch',
  pyroute2: '(d) pyroute2 (Python), one ack per operation',
};

export interface ScaleEntry {
  readonly links: number;
  readonly queues: number;
  readonly runs: number;
  /** Medians of the whole sequence: scan, attach, open+close fds, detach. */
  readonly inProcessMs: number;
  readonly netlinkMs: number;
  readonly perCommandMs: number;
  readonly batchFloorMs: number;
  /** NaN when python3-pyroute2 is not installed. */
  readonly pyroute2Ms: number;
  readonly phasesMs: Readonly<Record<Method, PhaseFigures>>;
  readonly ratios: {
    readonly inProcessVsFloor: number | null;
    readonly perCommandVsFloor: number | null;
    readonly perCommandVsInProcess: number | null;
    /** The attach phase alone (scan, fds and detach excluded). */
    readonly attachInProcessVsFloor: number | null;
    readonly netlinkVsFloor: number | null;
    readonly attachNetlinkVsFloor: number | null;
    readonly netlinkVsPyroute2: number | null;
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

/** Run r's order: the methods rotated by r, reversed on odd runs. */
export const orderOf = (r: number, methods: readonly Method[] = METHODS): Method[] => {
  const k = r % methods.length;
  const rotated = [...methods.slice(k), ...methods.slice(0, k)];
  return r % 2 === 1 ? rotated.reverse() : rotated;
};

const runMethod = (m: Method, pod: Pod, queues: number): Promise<MethodRun> => {
  switch (m) {
    case 'inProcess':
      return inProcess(pod, queues, 'iproute2');
    case 'netlink':
      return inProcess(pod, queues, 'netlink');
    case 'pyroute2':
      return viaPyroute2(pod, queues);
    default:
      return byHand(pod, queues, m === 'perCommand' ? 'per-command' : 'batch');
  }
};

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
    netlinkMs: ms.netlink.total,
    perCommandMs: ms.perCommand.total,
    batchFloorMs: ms.batchFloor.total,
    pyroute2Ms: ms.pyroute2.total,
    phasesMs: ms,
    ratios: {
      inProcessVsFloor: ratio(ms.inProcess.total, ms.batchFloor.total),
      perCommandVsFloor: ratio(ms.perCommand.total, ms.batchFloor.total),
      perCommandVsInProcess: ratio(ms.perCommand.total, ms.inProcess.total),
      attachInProcessVsFloor: ratio(ms.inProcess.attach, ms.batchFloor.attach),
      netlinkVsFloor: ratio(ms.netlink.total, ms.batchFloor.total),
      attachNetlinkVsFloor: ratio(ms.netlink.attach, ms.batchFloor.attach),
      netlinkVsPyroute2: ratio(ms.netlink.total, ms.pyroute2.total),
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
  const methods = (await pyroute2Available()) ? METHODS : METHODS.filter((m) => m !== 'pyroute2');
  if (methods.length < METHODS.length) say('scale: python3-pyroute2 is not installed: no (d) column');
  for (const links of o.sizes) {
    const pod = await makePod(links);
    try {
      const before = await stateOf(pod);
      const once = async (m: Method): Promise<MethodRun> => {
        const r = await runMethod(m, pod, queues);
        if (!isDeepStrictEqual(await stateOf(pod), before)) throw new Error(`${METHOD_LABELS[m]} left ${pod.name} different from how it found it (${links} links)`);
        return r;
      };
      if (o.warmUp !== false) for (const m of methods) await once(m);
      const samples: Record<Method, MethodRun[]> = { inProcess: [], netlink: [], perCommand: [], batchFloor: [], pyroute2: [] };
      for (let r = 0; r < o.runs; r++) {
        for (const m of orderOf(r, methods)) samples[m].push(await once(m));
        say(`scale: ${links} links, run ${r + 1}/${o.runs}: ${methods.map((m) => `${m} ${(samples[m].at(-1)?.ms.total ?? NaN).toFixed(1)} ms`).join(', ')}`);
      }
      out.push(entryOf(links, queues, samples));
    } finally {
      await pod.dispose();
    }
  }
  return out;
};
