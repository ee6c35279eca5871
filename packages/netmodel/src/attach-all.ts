// attachAll: what a runtime does for a VM. Every attachable endpoint is
// decided first (a bad model or foreign state fails before anything changes),
// then all plans are applied merged phase by phase (one pipelined rtnetlink
// exchange per phase, or one ip/tc -batch with the iproute2 executor), for all
// endpoints, as one transaction (a failure anywhere undoes everything this
// call made, across endpoints, and nothing else).
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Endpoint } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
import { attachIn, type AttachOptions } from './attach.js';
import { checkAbort, progressOf } from './progress.js';
import type { NetmodelError } from './errors.js';
import { halfMadeDevices } from './half-made.js';
import type { Attachment, Model } from './model.js';
import { plan, SUPPORTED_MODELS } from './plan.js';
import { readNetns } from './state.js';
import { findAttachments } from './inventory.js';
import { underNetnsLock } from './lock.js';

/** Endpoints attachAll takes: attachable, and not passed through as they are. */
export const wantsModel = (e: Endpoint): boolean => e.skipped === undefined && e.kind !== 'physical' && e.kind !== 'vhost-user';

/**
 * The model attachAll uses for one endpoint: the one asked for, except that a
 * macvtap endpoint (e.g. from kubevirt's macvtap CNI) already is what a VM
 * opens and is handed over as it is (model none), as Kata does.
 */
export const modelFor =
  (model: Model) =>
  (e: Endpoint): Model =>
    e.kind === 'macvtap' && !(SUPPORTED_MODELS.macvtap ?? []).includes(model) ? 'none' : model;

/**
 * With the ip/tc executor, 2 spawns to read the netns and 1 per phase of
 * the model (tcfilter 3, macvtap 1), for any number of endpoints; under the netns lock.
 */
export const attachAll = (ns: NetnsHandle, endpoints: readonly Endpoint[], model: Model, opts: Omit<AttachOptions, 'tapName'> = {}): TE.TaskEither<NetmodelError, readonly Attachment[]> => {
  const chosen = endpoints.filter(wantsModel);
  const choose = modelFor(model);
  return async () => {
    // Pure and before any spawn or lock: a model the endpoints cannot take costs nothing.
    for (const e of chosen) {
      const p = plan(e, choose(e), opts);
      if (E.isLeft(p)) return p;
    }
    const what = `attach --all (model ${model})`;
    const report = progressOf(opts, 'attach', ns.spec);
    const go = checkAbort(opts.signal, what);
    if (E.isLeft(go)) return go;
    report('lock', what);
    return underNetnsLock(ns, what, opts.lock, async () => {
      const again = checkAbort(opts.signal, what);
      if (E.isLeft(again)) return again;
      report('read');
      const view = await readNetns(ns, opts.executor)();
      if (E.isLeft(view)) return view;
      // A half-made device of ours scans as an attachable tap; it is not an endpoint.
      const ours = new Set(halfMadeDevices(view.right).map((h) => h.device.name));
      // An endpoint another process attached since the caller's scan (its addresses
      // now on a macvtap, so it scanned "no addresses") is reported as existing.
      const attached = new Set(findAttachments(view.right).map((f) => f.record.ifindex));
      const late = endpoints.filter((e) => !wantsModel(e) && attached.has(e.link.ifindex) && e.kind !== 'loopback');
      return attachIn(ns, view.right, [...chosen, ...late].filter((e) => !ours.has(e.link.name)), choose, opts, report);
    })();
  };
};
