// The netlink executor: the same transaction as apply.ts, without processes.
// Everything runs in one synchronous visit to the netns (withNetnsSync): per
// phase, the ops' requests go out pipelined and every op gets its own ack,
// so what took effect is known exactly - including ops after a failed one,
// which the kernel still ran. On a failure every op that took effect, in
// this phase and the earlier ones, is undone newest first (also pipelined);
// the error names the first failed op with the kernel's extended-ack text.
//
// The iproute2 executor stops at a failed line; here the ops after it ran,
// and their side effects can take what the failed op would have removed
// (deleting a link's last IPv4 address flushes every route through it,
// including the one whose removal failed). So the failed ops' undos run too,
// but only those that put an original value back (re-add an address, replace
// a route, set a link attribute back): they are idempotent over what is still
// there. Their deletions never run: the object may be someone else's (a
// foreign qdisc refused with EEXIST). Errors of those restoring undos are
// expected (the address is still there) and not reported.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { describeSysError, inNetnsSync, type NetnsHandle } from '@tapwire/sys';
import type { Action } from './action.js';
import type { ApplyOptions } from './apply.js';
import { FAULT_DEVICE } from './fault.js';
import { fromSys, type NetmodelError } from './errors.js';
import type { Op, Phase } from './model.js';
import { runActions, withNetlink, type ActionOutcome } from './netlink-run.js';
import type { netlink } from '@tapwire/sys';

const EBUSY = 16;

/** What the iproute2 executor's fault line does: a request the kernel refuses (no such device). */
const faultAction = (phase: Phase): Action => (phase.tool === 'ip' ? { _tag: 'LinkSet', dev: FAULT_DEVICE, set: { up: true } } : { _tag: 'IngressAdd', dev: FAULT_DEVICE });

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

const isBusy = (o: ActionOutcome): boolean => !o.ok && o.cause._tag === 'SyscallFailed' && o.cause.errno === EBUSY;

/** Undo that puts an original value back, harmless when nothing was changed. */
const restores = (a: Action): boolean => a._tag === 'AddrAdd' || a._tag === 'RouteReplace' || a._tag === 'LinkSet';

interface Tried {
  readonly op: Op;
  readonly tookEffect: boolean;
}

/** Undo of the ops tried, newest first (see above); the errors of undos that had to succeed. */
const rollback = (sock: netlink.NetlinkSocket, tried: readonly Tried[]): string[] => {
  const undo = [...tried].reverse().flatMap(({ op, tookEffect }) => (tookEffect ? op.undoActions : op.undoActions.filter(restores)).map((action) => ({ action, mustWork: tookEffect })));
  const outcomes = runActions(sock, undo.map((u) => u.action));
  return outcomes.flatMap((o, i) => (o.ok || undo[i]?.mustWork !== true ? [] : [describeSysError(o.cause)]));
};

const runPhases = (sock: netlink.NetlinkSocket, ns: NetnsHandle, phases: readonly Phase[], opts: ApplyOptions): E.Either<NetmodelError, void> => {
  const tried: Tried[] = [];
  for (const [pi, phase] of phases.entries()) {
    const actions = phase.ops.map((o, i) => (opts.failAt?.phase === pi + 1 && opts.failAt.step === i + 1 ? faultAction(phase) : o.action));
    const outcomes = runActions(sock, actions);
    // qdisc changes can meet EBUSY: run what failed again from the first busy one on, in order.
    for (let tries = 0; tries < (opts.busyRetries ?? 4); tries++) {
      const first = outcomes.findIndex((o, i) => isBusy(o) && phase.ops[i]?.retryOnBusy === true);
      if (first < 0) break;
      sleepSync((opts.busyBackoffMs ?? 20) * 2 ** tries);
      const again = outcomes.flatMap((o, i) => (i >= first && !o.ok ? [i] : []));
      const redo = runActions(sock, again.map((i) => actions[i] as Action));
      again.forEach((i, k) => {
        outcomes[i] = redo[k] as ActionOutcome;
      });
    }
    const failedAt = outcomes.findIndex((o) => !o.ok);
    // A replaced (fault) op did something else: the op itself did not take effect.
    phase.ops.forEach((op, i) => tried.push({ op, tookEffect: outcomes[i]?.ok === true && actions[i] === op.action }));
    if (failedAt >= 0) {
      const bad = outcomes[failedAt] as Extract<ActionOutcome, { ok: false }>;
      const rollbackErrors = rollback(sock, tried);
      return E.left({ _tag: 'ApplyFailed', netns: ns.spec, phase: pi + 1, step: failedAt + 1, what: phase.ops[failedAt]?.what ?? `phase ${pi + 1}`, cause: bad.cause, rollbackErrors });
    }
  }
  return E.right(undefined);
};

/** applyPhases without processes: one visit to the netns, one socket, pipelined. */
export const applyPhasesNetlink =
  (ns: NetnsHandle, phases: readonly Phase[], opts: ApplyOptions = {}): TE.TaskEither<NetmodelError, void> =>
  async () => {
    if (phases.length === 0) return E.right(undefined);
    const r = inNetnsSync(ns, () => withNetlink((sock) => runPhases(sock, ns, phases, opts)));
    return E.isLeft(r) ? E.left(fromSys(r.left)) : r.right;
  };
