// attach: read the netns once (rtnetlink dumps; 2 spawns with the iproute2
// executor), decide for every endpoint against what is there now (refuse
// foreign state, report an identical earlier attachment, else plan), then
// apply all plans merged phase by phase (one exchange, or 1 spawn, per phase
// whatever the number of endpoints) as one transaction - all of it under the
// netns's lock (lock.ts).
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Endpoint, Link } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
import { applyPhases, type ApplyOptions } from './apply.js';
import type { NetmodelError } from './errors.js';
import { halfMadeDevices, halfMadeFinding } from './half-made.js';
import { attachmentOf, attachmentOfLink, findingsOf } from './inventory.js';
import { mergePhases } from './merge.js';
import type { Attachment, Model, Plan } from './model.js';
import { plan, type PlanOptions } from './plan.js';
import { readNetns, type NetnsView } from './state.js';
import { underNetnsLock, type LockOption } from './lock.js';
import { checkAbort, progressOf, type ProgressOptions } from './progress.js';
import { defaultTapName } from './names.js';
import { viewIndex } from './view-index.js';

export type AttachOptions = Omit<PlanOptions, 'routes'> & ApplyOptions & ProgressOptions & {
  /** The netns lock (default /run/tapwire/locks, 15 s); false when the caller already serialises. */
  readonly lock?: LockOption;
};

/** Reports one attach's steps (progress.ts). */
export type AttachReporter = ReturnType<typeof progressOf>;

export const attachmentOfPlan = (p: Plan): Attachment => ({
  link: p.link,
  model: p.model,
  tapName: p.tapName,
  queues: p.queues,
  multiQueue: p.multiQueue,
  guestMac: p.guestMac,
  mtu: p.mtu,
  device: p.device,
});

/**
 * The link's attachment already in the netns, looked at before planning: the
 * link as it is now (a macvtap took its addresses) would plan as "not
 * attachable", which says nothing true. Right(undefined): none.
 */
const priorAttachment = (ns: NetnsHandle, view: NetnsView, link: Link, model: Model, opts: Omit<PlanOptions, 'routes'>): E.Either<NetmodelError, Attachment | undefined> => {
  const found = attachmentOfLink(view, link.ifindex);
  if (found === undefined) return E.right(undefined);
  const tapName = opts.tapName ?? defaultTapName(link.ifindex);
  const queues = opts.queues ?? 1;
  if (found.device.name !== tapName || found.record.model !== model || found.record.queues !== queues) {
    return E.left({ _tag: 'AlreadyAttached', netns: ns.spec, link: link.name, tapName: found.device.name, model: found.record.model, queues: found.record.queues, asked: { tapName, model, queues } });
  }
  const findings = findingsOf(view, found);
  if (findings.length > 0) return E.left({ _tag: 'AttachmentDrifted', netns: ns.spec, link: link.name, tapName, findings });
  return E.right({ ...attachmentOf(found), existing: true });
};

/** Left: an error; right(undefined): nothing in the way of the plan. */
const inTheWay = (ns: NetnsHandle, view: NetnsView, p: Plan): E.Either<NetmodelError, undefined> => {
  const halfMade = halfMadeDevices(view).find((h) => h.link.ifindex === p.ifindex);
  if (halfMade !== undefined) {
    return E.left({ _tag: 'AttachmentDrifted', netns: ns.spec, link: p.link, tapName: halfMade.device.name, findings: [halfMadeFinding(halfMade)] });
  }
  const index = viewIndex(view);
  const clash = index.linkByName.get(p.tapName);
  if (clash !== undefined) {
    return E.left({ _tag: 'ForeignLinkExists', netns: ns.spec, name: p.tapName, detail: `a ${clash.kind ?? 'device'} tapwire did not make (choose another --tap-name)` });
  }
  if (p.model === 'tcfilter' && index.withIngress.has(p.link)) {
    return E.left({ _tag: 'ForeignIngressQdisc', netns: ns.spec, link: p.link });
  }
  return E.right(undefined);
};

/** One endpoint's fate before anything changes: already there as asked, or a plan to apply. */
export type Decision = { readonly _tag: 'Existing'; readonly attachment: Attachment } | { readonly _tag: 'Apply'; readonly plan: Plan };

/** Plans against the fresh view (the endpoint may be from an older scan); pure. */
export const decide = (ns: NetnsHandle, view: NetnsView, endpoint: Endpoint, model: Model, opts: Omit<PlanOptions, 'routes'>): E.Either<NetmodelError, Decision> => {
  const link = viewIndex(view).linkByName.get(endpoint.link.name);
  if (link === undefined) return E.left({ _tag: 'LinkNotFound', netns: ns.spec, link: endpoint.link.name });
  if (halfMadeDevices(view).some((h) => h.device.ifindex === link.ifindex)) {
    return E.left({ _tag: 'NotAttachable', link: link.name, kind: endpoint.kind, reason: 'it is a half-made tapwire device (an attach died before recording it); detach removes it' });
  }
  if (model !== 'none') {
    const prior = priorAttachment(ns, view, link, model, opts);
    if (E.isLeft(prior)) return prior;
    if (prior.right !== undefined) return E.right({ _tag: 'Existing', attachment: prior.right });
  }
  const p = plan({ ...endpoint, link } as Endpoint, model, { ...opts, routes: view.routes });
  if (E.isLeft(p)) return p;
  if (p.right.model === 'none') return E.right({ _tag: 'Existing', attachment: { ...attachmentOfPlan(p.right), existing: true } });
  const clear = inTheWay(ns, view, p.right);
  return E.isLeft(clear) ? clear : E.right({ _tag: 'Apply', plan: p.right });
};

/**
 * Decides every endpoint (any refusal fails the whole call before anything
 * changes), then applies the plans merged: failAt addresses the merged plan.
 * The same link listed twice is attached once and reported twice.
 */
export const attachIn = async (
  ns: NetnsHandle,
  view: NetnsView,
  endpoints: readonly Endpoint[],
  /** One model for all, or chosen per endpoint (attachAll hands macvtaps over as they are). */
  model: Model | ((e: Endpoint) => Model),
  opts: AttachOptions,
  report: AttachReporter = progressOf(opts, 'attach', ns.spec),
): Promise<E.Either<NetmodelError, readonly Attachment[]>> => {
  const { failAt, busyRetries, busyBackoffMs, lock: _lock, onProgress: _onProgress, signal, ...planOpts } = opts;
  const byLink = new Map<string, Decision>();
  for (const e of endpoints) {
    if (byLink.has(e.link.name)) continue;
    const d = decide(ns, view, e, typeof model === 'function' ? model(e) : model, planOpts);
    if (E.isLeft(d)) return d;
    byLink.set(e.link.name, d.right);
  }
  const plans = [...byLink.values()].flatMap((d) => (d._tag === 'Apply' ? [d.plan] : []));
  // The last point where stopping leaves nothing to undo.
  const go = checkAbort(signal, `attaching ${[...byLink.keys()].join(' ')}`);
  if (E.isLeft(go)) return go;
  report('apply', `${plans.length} to attach (${plans.map((p) => p.link).join(' ') || 'none'}), ${byLink.size - plans.length} already attached`);
  const applyOpts: ApplyOptions = { ...(opts.executor === undefined ? {} : { executor: opts.executor }), ...(failAt === undefined ? {} : { failAt }), ...(busyRetries === undefined ? {} : { busyRetries }), ...(busyBackoffMs === undefined ? {} : { busyBackoffMs }) };
  const applied = await applyPhases(ns, mergePhases(plans), applyOpts)();
  if (E.isLeft(applied)) return applied;
  report('done');
  return E.right(endpoints.map((e) => {
    const d = byLink.get(e.link.name) as Decision;
    return d._tag === 'Apply' ? attachmentOfPlan(d.plan) : d.attachment;
  }));
};

/** Attaches endpoints in one transaction; with the iproute2 executor 2 spawns to read, 1 per phase of the merged plan to change. */
export const attachMany = (ns: NetnsHandle, endpoints: readonly Endpoint[], model: Model, opts: AttachOptions = {}): TE.TaskEither<NetmodelError, readonly Attachment[]> => {
  const what = `attach ${endpoints.map((e) => e.link.name).join(' ')} (model ${model})`;
  const report = progressOf(opts, 'attach', ns.spec);
  const locked = underNetnsLock(ns, what, opts.lock, async () => {
    const go = checkAbort(opts.signal, what);
    if (E.isLeft(go)) return go;
    report('read');
    const view = await readNetns(ns, opts.executor)();
    if (E.isLeft(view)) return view;
    return attachIn(ns, view.right, endpoints, model, opts, report);
  });
  return async () => {
    const go = checkAbort(opts.signal, what);
    if (E.isLeft(go)) return go;
    report('lock', what);
    return locked();
  };
};

export const attach =
  (ns: NetnsHandle, endpoint: Endpoint, model: Model, opts: AttachOptions = {}): TE.TaskEither<NetmodelError, Attachment> =>
  async () => {
    const r = await attachMany(ns, [endpoint], model, opts)();
    return E.isLeft(r) ? r : E.right(r.right[0] as Attachment);
  };
