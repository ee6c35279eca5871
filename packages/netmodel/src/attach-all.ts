// attachAll: what a runtime does for a VM. Plans every attachable endpoint
// first (pure: a bad model fails before anything changes), then attaches them
// one by one; when one fails, the ones done before are detached.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Endpoint } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
import { attachIn, type AttachOptions } from './attach.js';
import { detach } from './detach.js';
import type { NetmodelError } from './errors.js';
import type { Attachment, Model } from './model.js';
import { plan } from './plan.js';
import { readNetns } from './state.js';

/** Endpoints attachAll takes: attachable, and not passed through as they are. */
export const wantsModel = (e: Endpoint): boolean => e.skipped === undefined && e.kind !== 'physical' && e.kind !== 'vhost-user';

export const attachAll =
  (ns: NetnsHandle, endpoints: readonly Endpoint[], model: Model, opts: Omit<AttachOptions, 'tapName'> = {}): TE.TaskEither<NetmodelError, readonly Attachment[]> =>
  async () => {
    const chosen = endpoints.filter(wantsModel);
    for (const e of chosen) {
      const p = plan(e, model, opts);
      if (E.isLeft(p)) return p;
    }
    const view = await readNetns(ns)();
    if (E.isLeft(view)) return view;
    const done: Attachment[] = [];
    for (const e of chosen) {
      const r = await attachIn(ns, view.right, e, model, opts);
      if (E.isLeft(r)) {
        for (const a of [...done].reverse()) if (a.existing !== true) await detach(ns, a)();
        return r;
      }
      done.push(r.right);
    }
    return E.right(done);
  };
