// attach: read the netns once (2 spawns), decide for every endpoint against
// what is there now (refuse foreign state, report an identical earlier
// attachment, else plan), then apply all plans merged phase by phase (1 spawn
// per phase whatever the number of endpoints) as one transaction.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Endpoint } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
import { applyPhases, type ApplyOptions } from './apply.js';
import type { NetmodelError } from './errors.js';
import { halfMadeDevices, halfMadeFinding } from './half-made.js';
import { attachmentOf, findAttachments, findingsOf } from './inventory.js';
import { mergePhases } from './merge.js';
import type { Attachment, Model, Plan } from './model.js';
import { plan, type PlanOptions } from './plan.js';
import { readNetns, type NetnsView } from './state.js';
import { isIngress } from './tc-json.js';

export type AttachOptions = Omit<PlanOptions, 'routes'> & ApplyOptions;

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

/** Left: an error; right(Attachment): already attached exactly so; right(undefined): go ahead. */
const existing = (ns: NetnsHandle, view: NetnsView, p: Plan): E.Either<NetmodelError, Attachment | undefined> => {
  const mine = findAttachments(view).filter((f) => f.record.ifindex === p.ifindex);
  const same = mine.find((f) => f.device.name === p.tapName);
  const other = mine.find((f) => f.device.name !== p.tapName);
  if (other !== undefined) {
    return E.left({ _tag: 'ForeignLinkExists', netns: ns.spec, name: other.device.name, detail: `${p.link} is already attached through ${other.device.name} (model ${other.record.model}); detach it first` });
  }
  if (same !== undefined) {
    if (same.record.model !== p.model || same.record.queues !== p.queues) {
      return E.left({
        _tag: 'ForeignLinkExists',
        netns: ns.spec,
        name: p.tapName,
        detail: `it is a tapwire attachment of ${p.link} with model ${same.record.model} and ${same.record.queues} queue(s), not ${p.model} with ${p.queues}; detach it first`,
      });
    }
    const findings = findingsOf(view, same);
    if (findings.length > 0) return E.left({ _tag: 'AttachmentDrifted', netns: ns.spec, link: p.link, tapName: p.tapName, findings });
    return E.right({ ...attachmentOf(same), existing: true });
  }
  const halfMade = halfMadeDevices(view).find((h) => h.link.ifindex === p.ifindex);
  if (halfMade !== undefined) {
    return E.left({ _tag: 'AttachmentDrifted', netns: ns.spec, link: p.link, tapName: halfMade.device.name, findings: [halfMadeFinding(halfMade)] });
  }
  const clash = view.links.find((l) => l.name === p.tapName);
  if (clash !== undefined) {
    return E.left({ _tag: 'ForeignLinkExists', netns: ns.spec, name: p.tapName, detail: `a ${clash.kind ?? 'device'} tapwire did not make (choose another --tap-name)` });
  }
  if (p.model === 'tcfilter' && view.qdiscs.some((q) => q.dev === p.link && isIngress(q))) {
    return E.left({ _tag: 'ForeignIngressQdisc', netns: ns.spec, link: p.link });
  }
  return E.right(undefined);
};

/** One endpoint's fate before anything changes: already there as asked, or a plan to apply. */
export type Decision = { readonly _tag: 'Existing'; readonly attachment: Attachment } | { readonly _tag: 'Apply'; readonly plan: Plan };

/** Plans against the fresh view (the endpoint may be from an older scan); pure. */
export const decide = (ns: NetnsHandle, view: NetnsView, endpoint: Endpoint, model: Model, opts: Omit<PlanOptions, 'routes'>): E.Either<NetmodelError, Decision> => {
  const link = view.links.find((l) => l.name === endpoint.link.name);
  if (link === undefined) return E.left({ _tag: 'LinkNotFound', netns: ns.spec, link: endpoint.link.name });
  if (halfMadeDevices(view).some((h) => h.device.ifindex === link.ifindex)) {
    return E.left({ _tag: 'NotAttachable', link: link.name, kind: endpoint.kind, reason: 'it is a half-made tapwire device (an attach died before recording it); detach removes it' });
  }
  const p = plan({ ...endpoint, link } as Endpoint, model, { ...opts, routes: view.routes });
  if (E.isLeft(p)) return p;
  if (p.right.model === 'none') return E.right({ _tag: 'Existing', attachment: { ...attachmentOfPlan(p.right), existing: true } });
  const found = existing(ns, view, p.right);
  if (E.isLeft(found)) return found;
  return E.right(found.right === undefined ? { _tag: 'Apply', plan: p.right } : { _tag: 'Existing', attachment: found.right });
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
): Promise<E.Either<NetmodelError, readonly Attachment[]>> => {
  const { failAt, busyRetries, busyBackoffMs, ...planOpts } = opts;
  const byLink = new Map<string, Decision>();
  for (const e of endpoints) {
    if (byLink.has(e.link.name)) continue;
    const d = decide(ns, view, e, typeof model === 'function' ? model(e) : model, planOpts);
    if (E.isLeft(d)) return d;
    byLink.set(e.link.name, d.right);
  }
  const plans = [...byLink.values()].flatMap((d) => (d._tag === 'Apply' ? [d.plan] : []));
  const applyOpts: ApplyOptions = { ...(failAt === undefined ? {} : { failAt }), ...(busyRetries === undefined ? {} : { busyRetries }), ...(busyBackoffMs === undefined ? {} : { busyBackoffMs }) };
  const applied = await applyPhases(ns, mergePhases(plans), applyOpts)();
  if (E.isLeft(applied)) return applied;
  return E.right(endpoints.map((e) => {
    const d = byLink.get(e.link.name) as Decision;
    return d._tag === 'Apply' ? attachmentOfPlan(d.plan) : d.attachment;
  }));
};

/** Attaches endpoints in one transaction: 2 spawns to read, 1 per phase of the merged plan to change. */
export const attachMany =
  (ns: NetnsHandle, endpoints: readonly Endpoint[], model: Model, opts: AttachOptions = {}): TE.TaskEither<NetmodelError, readonly Attachment[]> =>
  async () => {
    const view = await readNetns(ns)();
    if (E.isLeft(view)) return view;
    return attachIn(ns, view.right, endpoints, model, opts);
  };

export const attach =
  (ns: NetnsHandle, endpoint: Endpoint, model: Model, opts: AttachOptions = {}): TE.TaskEither<NetmodelError, Attachment> =>
  async () => {
    const r = await attachMany(ns, [endpoint], model, opts)();
    return E.isLeft(r) ? r : E.right(r.right[0] as Attachment);
  };
