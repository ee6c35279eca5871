// Which attachments a launch uses. A real launch attaches (attachAll); a dry
// run decides against a fresh read of the netns and makes nothing, so a pod
// that is already attached (its link's addresses now on a macvtap, which scans
// as "no addresses") still plans: its recorded attachment is reported as is.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Endpoint } from '@tapwire/endpoints';
import { decide, decodeRecord, modelFor, readNetns, wantsModel, type Attachment, type Model, type NetmodelError } from '@tapwire/netmodel';
import type { NetnsHandle } from '@tapwire/sys';

/** ifindexes of the links some tapwire device's record says it attached. */
const attachedIfindexes = (aliases: readonly (string | undefined)[]): Set<number> =>
  new Set(
    aliases.flatMap((a) => {
      if (a === undefined) return [];
      const r = decodeRecord(a);
      return E.isRight(r) ? [r.right.ifindex] : [];
    }),
  );

/** Endpoints a launch gives a model: attachable ones, and links already attached. */
export const endpointsToAttach = (endpoints: readonly Endpoint[], attached: ReadonlySet<number>): Endpoint[] =>
  endpoints.filter((e) => wantsModel(e) || (e.kind !== 'loopback' && attached.has(e.link.ifindex)));

/**
 * The attachments a launch would use, nothing changed: existing ones as
 * recorded, the rest as planned. Also the endpoints that get a NIC, with an
 * attached link's "skipped" lifted (it is attached, not unusable).
 */
export const plannedAttachments =
  (ns: NetnsHandle, endpoints: readonly Endpoint[], model: Model, queues: number): TE.TaskEither<NetmodelError, { attachments: Attachment[]; endpoints: Endpoint[] }> =>
  async () => {
    const view = await readNetns(ns)();
    if (E.isLeft(view)) return view;
    const attached = attachedIfindexes(view.right.links.map((l) => l.alias));
    const chosen = endpointsToAttach(endpoints, attached);
    const attachments: Attachment[] = [];
    for (const e of chosen) {
      const d = decide(ns, view.right, e, modelFor(model)(e), { queues });
      if (E.isLeft(d)) return d;
      if (d.right._tag === 'Existing') {
        attachments.push(d.right.attachment);
      } else {
        const { link, model: m, tapName, queues: q, multiQueue, guestMac, mtu, device } = d.right.plan;
        attachments.push({ link, model: m, tapName, queues: q, multiQueue, guestMac, mtu, device });
      }
    }
    const names = new Set(attachments.map((a) => a.link));
    const usable = endpoints.flatMap((e): Endpoint[] => (names.has(e.link.name) ? [{ ...e, skipped: undefined } as Endpoint] : e.skipped === undefined ? [e] : []));
    return E.right({ attachments, endpoints: usable });
  };
