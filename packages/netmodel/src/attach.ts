// attach: read the netns (2 spawns), plan against what is there now, refuse
// foreign state, report an identical earlier attachment, else apply (1 spawn
// per phase).
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Endpoint } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
import { applyPlan, type ApplyOptions } from './apply.js';
import type { NetmodelError } from './errors.js';
import { attachmentOf, findAttachments, findingsOf } from './inventory.js';
import type { Attachment, Model, Plan } from './model.js';
import { plan, type PlanOptions } from './plan.js';
import { readNetns, type NetnsView } from './state.js';
import { isIngress } from './tc-json.js';

export type AttachOptions = Omit<PlanOptions, 'routes'> & ApplyOptions;

const attachmentOfPlan = (p: Plan): Attachment => ({
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
  const clash = view.links.find((l) => l.name === p.tapName);
  if (clash !== undefined) {
    return E.left({ _tag: 'ForeignLinkExists', netns: ns.spec, name: p.tapName, detail: `a ${clash.kind ?? 'device'} tapwire did not make (choose another --tap-name)` });
  }
  if (p.model === 'tcfilter' && view.qdiscs.some((q) => q.dev === p.link && isIngress(q))) {
    return E.left({ _tag: 'ForeignIngressQdisc', netns: ns.spec, link: p.link });
  }
  return E.right(undefined);
};

/** Plans against a fresh read of the netns (the endpoint may be from an older scan). */
export const attachIn = async (ns: NetnsHandle, view: NetnsView, endpoint: Endpoint, model: Model, opts: AttachOptions): Promise<E.Either<NetmodelError, Attachment>> => {
  const link = view.links.find((l) => l.name === endpoint.link.name);
  if (link === undefined) return E.left({ _tag: 'LinkNotFound', netns: ns.spec, link: endpoint.link.name });
  const p = plan({ ...endpoint, link } as Endpoint, model, { ...opts, routes: view.routes });
  if (E.isLeft(p)) return p;
  if (p.right.model === 'none') return E.right({ ...attachmentOfPlan(p.right), existing: true });
  const found = existing(ns, view, p.right);
  if (E.isLeft(found)) return found;
  if (found.right !== undefined) return E.right(found.right);
  const applied = await applyPlan(ns, p.right, opts)();
  return E.isLeft(applied) ? applied : E.right(attachmentOfPlan(p.right));
};

export const attach =
  (ns: NetnsHandle, endpoint: Endpoint, model: Model, opts: AttachOptions = {}): TE.TaskEither<NetmodelError, Attachment> =>
  async () => {
    const view = await readNetns(ns)();
    if (E.isLeft(view)) return view;
    return attachIn(ns, view.right, endpoint, model, opts);
  };
