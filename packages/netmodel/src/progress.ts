// Progress of netmodel's long operations, for whoever displays it (a CLI's
// stage lines, a runtime's log), and their cancellation: attach, attachAll,
// attachMany, detach and detachAll take `onProgress` and `signal`.
//
// An abort is honoured between steps, never inside one: a step that changes
// the netns runs to its end (or its rollback), so an aborted call leaves the
// netns as it found it, as any other failure does.
import * as E from 'fp-ts/lib/Either.js';
import type { NetmodelError } from './errors.js';

export type NetmodelOperation = 'attach' | 'detach';

export interface NetmodelProgress {
  readonly operation: NetmodelOperation;
  /** lock: waiting for / holding the netns lock; read: reading the netns; apply: changing it; done. */
  readonly step: 'lock' | 'read' | 'apply' | 'done';
  readonly netns: string;
  /** e.g. the links concerned, the number of merged phases, what was detached. */
  readonly detail?: string;
  /** Since the operation began. */
  readonly ms: number;
}

export interface ProgressOptions {
  readonly onProgress?: (e: NetmodelProgress) => void;
  readonly signal?: AbortSignal;
}

/** One operation's reporter: its clock starts now. */
export const progressOf = (o: ProgressOptions, operation: NetmodelOperation, netns: string) => {
  const began = Date.now();
  return (step: NetmodelProgress['step'], detail?: string): void =>
    o.onProgress?.({ operation, step, netns, ...(detail === undefined ? {} : { detail }), ms: Date.now() - began });
};

const reasonOf = (signal: AbortSignal): string => {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'aborted';
};

/** Left(Aborted) when the signal fired: called between steps. */
export const checkAbort = (signal: AbortSignal | undefined, what: string): E.Either<NetmodelError, void> =>
  signal?.aborted === true ? E.left({ _tag: 'Aborted', what, reason: reasonOf(signal) }) : E.right(undefined);
