// Many endpoints' plans as one plan: phase k of the merged plan holds phase k
// of every endpoint (in endpoint order), so attaching N endpoints costs one
// process per phase, not one per phase per endpoint. applyPhases then gives
// the merged plan the single plan's guarantee: on a failure at line k it
// undoes lines k-1..1 of that phase and then every earlier phase, newest
// first, across all endpoints.
import type { Phase, Plan, Tool } from './model.js';

/**
 * Every op of phase k of a plan needs everything of its phases < k (the tap
 * exists before a qdisc goes on it), so merged phase k comes after merged
 * phase k-1. Within phase k, plans whose phase k uses another tool (only
 * possible when models differ) get their own merged phase, ip before tc.
 */
export const mergePhases = (plans: readonly Plan[]): readonly Phase[] => {
  const depth = Math.max(0, ...plans.map((p) => p.phases.length));
  const merged: Phase[] = [];
  for (let k = 0; k < depth; k++) {
    for (const tool of ['ip', 'tc'] as const satisfies readonly Tool[]) {
      const ops = plans.flatMap((p) => {
        const phase = p.phases[k];
        return phase?.tool === tool ? phase.ops : [];
      });
      if (ops.length > 0) merged.push({ tool, ops });
    }
  }
  return merged;
};
