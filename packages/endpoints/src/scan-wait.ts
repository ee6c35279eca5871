import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { NetnsHandle } from '@tapwire/sys';
import { classify, type ClassifyOptions } from './classify.js';
import { isAttachable, type Endpoint } from './endpoint.js';
import type { Snapshot } from './model.js';
import { scan, type ScanError, type ScanOptions } from './scan.js';

export interface WaitTimedOut {
  readonly _tag: 'WaitTimedOut';
  readonly netns: string;
  readonly waitedMs: number;
  readonly lastSeen: readonly string[];
}

/** The caller's AbortSignal fired while waiting: what was waited for, and the signal's reason. */
export interface Aborted {
  readonly _tag: 'Aborted';
  readonly what: string;
  readonly reason: string;
}

export interface WaitOptions extends ScanOptions, ClassifyOptions {
  /** Ends the wait (between scans, or during a back-off sleep) with Aborted. */
  readonly signal?: AbortSignal;
  /**
   * What ends the wait; default: one attachable endpoint. A caller that also
   * takes links it attached before (they scan as "no addresses") says so here.
   */
  readonly usable?: (snapshot: Snapshot, endpoints: readonly Endpoint[]) => boolean;
}

const reasonOf = (signal: AbortSignal): string => {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'aborted';
};

/** Resolves after ms, or as soon as the signal fires (the timer is cleared either way). */
const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Some runtimes fill the netns after the VM is asked for (Docker 26+): poll,
 * backing off from 50 ms to 1 s, until one attachable link shows up (or what
 * opts.usable asks for); with waitMs <= 0, one scan, whatever it finds.
 */
export const scanUntilAttachable =
  (
    ns: NetnsHandle,
    waitMs: number,
    opts: WaitOptions = {},
  ): TE.TaskEither<ScanError | WaitTimedOut | Aborted, { snapshot: Snapshot; endpoints: readonly Endpoint[] }> =>
  async () => {
    const start = Date.now();
    const aborted = (): E.Either<Aborted, never> =>
      E.left({ _tag: 'Aborted', what: `waiting for an attachable link in netns ${JSON.stringify(ns.spec)}`, reason: reasonOf(opts.signal as AbortSignal) });
    let delay = 50;
    for (;;) {
      if (opts.signal?.aborted === true) return aborted();
      const r = await scan(ns, opts)();
      if (E.isLeft(r)) return r;
      const endpoints = classify(r.right, opts);
      const usable = opts.usable === undefined ? endpoints.some(isAttachable) : opts.usable(r.right, endpoints);
      if (usable || waitMs <= 0) return E.right({ snapshot: r.right, endpoints });
      const waited = Date.now() - start;
      if (waited >= waitMs) {
        return E.left({ _tag: 'WaitTimedOut', netns: ns.spec, waitedMs: waited, lastSeen: r.right.links.map((l) => l.name) });
      }
      await sleep(Math.min(delay, waitMs - waited), opts.signal);
      delay = Math.min(delay * 2, 1000);
    }
  };
