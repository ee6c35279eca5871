// attachAll: what a runtime does for a VM. Every attachable endpoint is
// decided first (a bad model or foreign state fails before anything changes),
// then all plans are applied merged: one ip -batch and one tc -batch for all
// endpoints, as one transaction (a failure anywhere undoes everything this
// call made, across endpoints, and nothing else).
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Endpoint } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
import { attachIn, type AttachOptions } from './attach.js';
import type { NetmodelError } from './errors.js';
import { halfMadeDevices } from './half-made.js';
import type { Attachment, Model } from './model.js';
import { plan } from './plan.js';
import { readNetns } from './state.js';

/** Endpoints attachAll takes: attachable, and not passed through as they are. */
export const wantsModel = (e: Endpoint): boolean => e.skipped === undefined && e.kind !== 'physical' && e.kind !== 'vhost-user';

/** 2 spawns to read the netns and 1 per phase of the model (tcfilter 2, macvtap 1), for any number of endpoints. */
export const attachAll =
  (ns: NetnsHandle, endpoints: readonly Endpoint[], model: Model, opts: Omit<AttachOptions, 'tapName'> = {}): TE.TaskEither<NetmodelError, readonly Attachment[]> =>
  async () => {
    const chosen = endpoints.filter(wantsModel);
    // Pure and before any spawn: a model the endpoints cannot take costs nothing.
    for (const e of chosen) {
      const p = plan(e, model, opts);
      if (E.isLeft(p)) return p;
    }
    const view = await readNetns(ns)();
    if (E.isLeft(view)) return view;
    // A half-made device of ours scans as an attachable tap; it is not an endpoint.
    const ours = new Set(halfMadeDevices(view.right).map((h) => h.device.name));
    return attachIn(ns, view.right, chosen.filter((e) => !ours.has(e.link.name)), model, opts);
  };
