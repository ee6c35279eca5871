// attach and detach hold the netns's lock (@tapwire/sys netns-lock.ts) from
// reading the netns to their last change, so two processes never interleave
// in one netns: the second waits, then reads what the first left (and says
// "already attached", not what a half-done attach looked like), or gives up
// with NetnsBusy naming the holder.
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { withNetnsLock, type NetnsHandle, type NetnsLockOptions } from '@tapwire/sys';
import type { NetmodelError } from './errors.js';

/** Where and how long to wait for the lock; false: the caller serialises (it holds the lock, or runs alone). */
export type LockOption = NetnsLockOptions | false;

export const underNetnsLock = <A>(ns: NetnsHandle, purpose: string, lock: LockOption | undefined, task: TE.TaskEither<NetmodelError, A>): TE.TaskEither<NetmodelError, A> =>
  lock === false ? task : withNetnsLock(ns, purpose, lock ?? {}, task);
