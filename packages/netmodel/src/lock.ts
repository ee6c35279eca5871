// attach and detach hold the netns's lock (@tapwire/sys netns-lock.ts) from
// reading the netns to their last change, so two processes never interleave
// in one netns: the second waits, then reads what the first left (and says
// "already attached", not what a half-done attach looked like), or gives up
// with NetnsBusy naming the holder.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { lockNetns, type NetnsHandle, type NetnsLockOptions } from '@tapwire/sys';
import { fromSys, type NetmodelError } from './errors.js';

/** Where and how long to wait for the lock; false: the caller serialises (it holds the lock, or runs alone). */
export type LockOption = NetnsLockOptions | false;

export const underNetnsLock = <A>(ns: NetnsHandle, purpose: string, lock: LockOption | undefined, task: TE.TaskEither<NetmodelError, A>): TE.TaskEither<NetmodelError, A> =>
  lock === false
    ? task
    : async () => {
        // lockNetns, not withNetnsLock: the lock's own failure (NetnsBusy...) is wrapped as Sys, the task's are its own.
        const held = await lockNetns(ns, purpose, lock ?? {})();
        if (E.isLeft(held)) return E.left(fromSys(held.left));
        try {
          return await task();
        } finally {
          held.right.release();
        }
      };
