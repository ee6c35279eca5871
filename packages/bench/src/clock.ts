// Times a run phase by phase, with the process spawns each phase made.
import { performance } from 'node:perf_hooks';

export const PHASES = ['scan', 'attach', 'fds', 'detach'] as const;
export type Phase = (typeof PHASES)[number];
export type PhaseFigures = Record<Phase | 'total', number>;

export interface MethodRun {
  readonly ms: PhaseFigures;
  readonly spawns: PhaseFigures;
}

export const phaseClock = (spawns: () => number) => {
  let t = performance.now();
  let s = spawns();
  const ms: Partial<Record<Phase, number>> = {};
  const sp: Partial<Record<Phase, number>> = {};
  return {
    /** Ends the current phase: the time and spawns since the previous lap. */
    lap: (phase: Phase): void => {
      const now = performance.now();
      const n = spawns();
      ms[phase] = now - t;
      sp[phase] = n - s;
      t = now;
      s = n;
    },
    result: (): MethodRun => {
      const total = (r: Partial<Record<Phase, number>>): PhaseFigures => {
        const full = Object.fromEntries(PHASES.map((p) => [p, r[p] ?? Number.NaN])) as Record<Phase, number>;
        return { ...full, total: PHASES.reduce((acc, p) => acc + full[p], 0) };
      };
      return { ms: total(ms), spawns: total(sp) };
    },
  };
};
