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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Some runtimes fill the netns after the VM is asked for (Docker 26+): poll,
 * backing off from 50 ms to 1 s, until one attachable link shows up.
 */
export const scanUntilAttachable =
  (
    ns: NetnsHandle,
    waitMs: number,
    opts: ScanOptions & ClassifyOptions = {},
  ): TE.TaskEither<ScanError | WaitTimedOut, { snapshot: Snapshot; endpoints: readonly Endpoint[] }> =>
  async () => {
    const start = Date.now();
    let delay = 50;
    for (;;) {
      const r = await scan(ns, opts)();
      if (E.isLeft(r)) return r;
      const endpoints = classify(r.right, opts);
      if (endpoints.some(isAttachable) || waitMs <= 0) return E.right({ snapshot: r.right, endpoints });
      const waited = Date.now() - start;
      if (waited >= waitMs) {
        return E.left({ _tag: 'WaitTimedOut', netns: ns.spec, waitedMs: waited, lastSeen: r.right.links.map((l) => l.name) });
      }
      await sleep(Math.min(delay, waitMs - waited));
      delay = Math.min(delay * 2, 1000);
    }
  };
