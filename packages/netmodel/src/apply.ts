// Runs a plan as a transaction: one -batch process per phase. On a failure the
// ops that took effect (the lines before the failed one, and every earlier
// phase) are undone in reverse order with -force, one process per phase.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { describeSysError, runBatch, type NetnsHandle, type SysError } from '@tapwire/sys';
import type { NetmodelError } from './errors.js';
import type { Argv, Op, Phase, Plan, Tool } from './model.js';
import { applyPhasesNetlink } from './apply-netlink.js';
import { DEFAULT_EXECUTOR, type Executor } from './executor.js';
import { FAULT_DEVICE } from './fault.js';

/** Test hook: make op `step` (1-based) of phase `phase` (1-based) fail. */
export interface FailAt {
  readonly phase: number;
  readonly step: number;
}


export { DEFAULT_EXECUTOR, type Executor };

export interface ApplyOptions {
  readonly executor?: Executor;
  readonly failAt?: FailAt;
  /** EBUSY retries of a qdisc change, and the first backoff (doubling). */
  readonly busyRetries?: number;
  readonly busyBackoffMs?: number;
}


export { FAULT_DEVICE };
const faultLine = (tool: Tool): Argv => (tool === 'ip' ? ['link', 'set', 'dev', FAULT_DEVICE, 'up'] : ['qdisc', 'add', 'dev', FAULT_DEVICE, 'ingress']);

const isBusy = (e: SysError): boolean => e._tag === 'CommandFailed' && /resource busy|EBUSY/i.test(e.stderr);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Undo commands of ops that took effect, newest first. */
const undoLines = (ops: readonly Op[]): Argv[] => [...ops].reverse().flatMap((o) => o.undo);

const rollback = async (ns: NetnsHandle, done: readonly { tool: Tool; ops: readonly Op[] }[]): Promise<string[]> => {
  const errors: string[] = [];
  for (const d of [...done].reverse()) {
    const lines = undoLines(d.ops);
    const r = await runBatch(ns, d.tool, lines, { force: true })();
    if (E.isLeft(r)) errors.push(describeSysError(r.left));
  }
  return errors;
};

export const applyPhases = (ns: NetnsHandle, phases: readonly Phase[], opts: ApplyOptions = {}): TE.TaskEither<NetmodelError, void> =>
  (opts.executor ?? DEFAULT_EXECUTOR) === 'netlink' ? applyPhasesNetlink(ns, phases, opts) : applyPhasesIproute2(ns, phases, opts);

export const applyPhasesIproute2 =
  (ns: NetnsHandle, phases: readonly Phase[], opts: ApplyOptions = {}): TE.TaskEither<NetmodelError, void> =>
  async () => {
    const done: { tool: Tool; ops: readonly Op[] }[] = [];
    for (const [pi, phase] of phases.entries()) {
      const lines = phase.ops.map((o, i) => (opts.failAt?.phase === pi + 1 && opts.failAt.step === i + 1 ? faultLine(phase.tool) : o.argv));
      let start = 0;
      let busyTries = 0;
      for (;;) {
        const r = await runBatch(ns, phase.tool, lines.slice(start))();
        if (E.isRight(r)) break;
        const line = r.left._tag === 'CommandFailed' ? r.left.failedLine : undefined;
        const failedIdx = line === undefined ? undefined : start + line - 1;
        const failedOp = failedIdx === undefined ? undefined : phase.ops[failedIdx];
        if (failedIdx !== undefined && failedOp?.retryOnBusy === true && isBusy(r.left) && busyTries < (opts.busyRetries ?? 4)) {
          await sleep((opts.busyBackoffMs ?? 20) * 2 ** busyTries);
          busyTries += 1;
          start = failedIdx;
          continue;
        }
        // Without a line number we cannot know what took effect: undo all of this
        // phase (undoing something never done fails harmlessly under -force).
        const tookEffect = failedIdx === undefined ? phase.ops : phase.ops.slice(0, failedIdx);
        const rollbackErrors = await rollback(ns, [...done, { tool: phase.tool, ops: tookEffect }]);
        return E.left({
          _tag: 'ApplyFailed',
          netns: ns.spec,
          phase: pi + 1,
          step: failedIdx === undefined ? undefined : failedIdx + 1,
          what: failedOp?.what ?? `phase ${pi + 1} (${phase.tool})`,
          cause: r.left,
          rollbackErrors,
        });
      }
      done.push({ tool: phase.tool, ops: phase.ops });
    }
    return E.right(undefined);
  };

export const applyPlan = (ns: NetnsHandle, plan: Plan, opts: ApplyOptions = {}): TE.TaskEither<NetmodelError, void> => applyPhases(ns, plan.phases, opts);
