// The targets the results are read against: in-process attach-all within
// 1.3x of the batch floor at 64 links, and spawns per phase constant in the
// number of links.
import { PHASES, type Phase } from './clock.js';
import type { ScaleEntry } from './scale.js';

export const FLOOR_TARGET = 1.3;
export const FLOOR_TARGET_LINKS = 64;

export interface Targets {
  readonly withinFloor:
    | {
        readonly links: number;
        readonly target: number;
        /** Whole sequence (scan, attach, fds, detach) over the floor's. */
        readonly inProcessVsFloor: number | null;
        /** The attach phase alone: attachAll vs one ip -batch + one tc -batch. */
        readonly attachInProcessVsFloor: number | null;
        /** Judged on the attach phase (what "attach-all" names); the stricter reading. */
        readonly met: boolean;
        readonly metOnWholeSequence: boolean;
      }
    | { readonly skipped: string };
  readonly spawnsConstant: {
    readonly met: boolean;
    /** (a)'s spawns per phase, one value per pod size in order. */
    readonly inProcessPerPhase: Readonly<Record<Phase, readonly number[]>>;
    readonly sizes: readonly number[];
    readonly growing: readonly Phase[];
  };
}

export const targetsOf = (scale: readonly ScaleEntry[]): Targets => {
  const at = scale.find((e) => e.links === FLOOR_TARGET_LINKS);
  const perPhase = Object.fromEntries(PHASES.map((p) => [p, scale.map((e) => e.spawns.inProcess[p])])) as Record<Phase, number[]>;
  const growing = PHASES.filter((p) => new Set(perPhase[p]).size > 1);
  return {
    withinFloor:
      at === undefined
        ? { skipped: `no ${FLOOR_TARGET_LINKS}-link pod in --sizes` }
        : {
            links: FLOOR_TARGET_LINKS,
            target: FLOOR_TARGET,
            inProcessVsFloor: at.ratios.inProcessVsFloor,
            attachInProcessVsFloor: at.ratios.attachInProcessVsFloor,
            met: at.ratios.attachInProcessVsFloor !== null && at.ratios.attachInProcessVsFloor <= FLOOR_TARGET,
            metOnWholeSequence: at.ratios.inProcessVsFloor !== null && at.ratios.inProcessVsFloor <= FLOOR_TARGET,
          },
    spawnsConstant: { met: scale.length > 0 && growing.length === 0, inProcessPerPhase: perPhase, sizes: scale.map((e) => e.links), growing },
  };
};
