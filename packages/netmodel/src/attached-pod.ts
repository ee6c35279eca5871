// A pod that was attached before a launch, as every launch path (QEMU
// directly, libvirt) must see it:
// - which attachments a launch uses without changing anything (a dry run):
//   existing ones as recorded, the rest as planned against a fresh read;
// - which endpoints get a NIC: a link attached with model macvtap scans as
//   "no addresses" (skipped), yet it is attached, not unusable;
// - what the guest must be told: attach took a macvtap-attached link's
//   addresses and routes off it and kept them only in the macvtap's alias
//   record (what detach puts back); they are read from there and given back
//   to the link in a copy of the scan, so the guest gets the pod's addressing
//   as if the link still held it.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Address, Endpoint, Link, Route, Snapshot } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
import { addrSpecOfWords, routeSpecOfWords } from './action.js';
import { decide } from './attach.js';
import { modelFor, wantsModel } from './attach-all.js';
import type { NetmodelError } from './errors.js';
import type { Attachment, Model } from './model.js';
import { decodeRecord } from './record.js';
import { readNetns, type NetnsView } from './state.js';
import type { Executor } from './executor.js';

/** ifindexes of the links some tapwire device's alias record says it attached. Pure. */
export const attachedIfindexes = (links: readonly Pick<Link, 'alias'>[]): Set<number> =>
  new Set(
    links.flatMap((l) => {
      if (l.alias === undefined) return [];
      const r = decodeRecord(l.alias);
      return E.isRight(r) ? [r.right.ifindex] : [];
    }),
  );

/** How each link attached already was attached (keyed by the link's ifindex), from the records. Pure. */
export const attachedAs = (links: readonly Pick<Link, 'alias'>[]): Map<number, { readonly model: 'tcfilter' | 'macvtap'; readonly queues: number }> =>
  new Map(
    links.flatMap((l) => {
      if (l.alias === undefined) return [];
      const r = decodeRecord(l.alias);
      return E.isRight(r) ? [[r.right.ifindex, { model: r.right.model, queues: r.right.queues }] as const] : [];
    }),
  );

export interface PlannedOptions {
  /**
   * Links attached already are taken as they are (their recorded model and
   * queues), whatever `model` and `queues` say; those apply to the rest.
   * Without it, an attachment unlike the one asked for is AlreadyAttached.
   */
  readonly keepAttached?: boolean;
  readonly executor?: Executor;
}

/** Endpoints a launch gives a model: attachable ones, and links already attached. */
export const endpointsToAttach = (endpoints: readonly Endpoint[], attached: ReadonlySet<number>): Endpoint[] =>
  endpoints.filter((e) => wantsModel(e) || (e.kind !== 'loopback' && attached.has(e.link.ifindex)));

/** True when `e` is skipped only because its link is attached (it gets its NIC all the same). */
const isAttachedLink = (e: Endpoint, attachments: readonly Attachment[]): boolean =>
  e.kind !== 'loopback' && attachments.some((a) => a.link === e.link.name);

/**
 * The endpoints that get a NIC: the usable ones, and those whose link is
 * attached with their "skipped" lifted. Pure.
 */
export const usableEndpoints = (endpoints: readonly Endpoint[], attachments: readonly Attachment[]): Endpoint[] =>
  endpoints.flatMap((e): Endpoint[] => (isAttachedLink(e, attachments) ? [e.skipped === undefined ? e : ({ ...e, skipped: undefined } as Endpoint)] : e.skipped === undefined ? [e] : []));

/** The attachments `view` implies for `endpoints`, nothing changed. Pure. */
export const plannedAttachmentsIn = (
  ns: NetnsHandle,
  view: NetnsView,
  endpoints: readonly Endpoint[],
  model: Model,
  queues: number,
  o: Pick<PlannedOptions, 'keepAttached'> = {},
): E.Either<NetmodelError, Attachment[]> => {
  const chosen = endpointsToAttach(endpoints, attachedIfindexes(view.links));
  const kept = o.keepAttached === true ? attachedAs(view.links) : new Map<number, { model: Model; queues: number }>();
  const attachments: Attachment[] = [];
  for (const e of chosen) {
    const as = kept.get(e.link.ifindex);
    const d = decide(ns, view, e, as?.model ?? modelFor(model)(e), { queues: as?.queues ?? queues });
    if (E.isLeft(d)) return d;
    if (d.right._tag === 'Existing') {
      attachments.push(d.right.attachment);
    } else {
      const { link, model: m, tapName, queues: q, multiQueue, guestMac, mtu, device } = d.right.plan;
      attachments.push({ link, model: m, tapName, queues: q, multiQueue, guestMac, mtu, device });
    }
  }
  return E.right(attachments);
};

/**
 * The attachments a launch would use, nothing changed (one read of the
 * netns): existing ones as recorded, the rest as planned. Also the endpoints
 * that get a NIC (usableEndpoints).
 */
export const plannedAttachments =
  (ns: NetnsHandle, endpoints: readonly Endpoint[], model: Model, queues: number, o: PlannedOptions = {}): TE.TaskEither<NetmodelError, { attachments: Attachment[]; endpoints: Endpoint[] }> =>
  async () => {
    const view = await readNetns(ns, o.executor)();
    if (E.isLeft(view)) return view;
    const attachments = plannedAttachmentsIn(ns, view.right, endpoints, model, queues, o);
    if (E.isLeft(attachments)) return attachments;
    return E.right({ attachments: attachments.right, endpoints: usableEndpoints(endpoints, attachments.right) });
  };

const v6Groups = (a: string): number[] | undefined => {
  const [head = '', tail] = a.split('::');
  const part = (x: string) => (x === '' ? [] : x.split(':').map((g) => parseInt(g, 16)));
  const h = part(head);
  const t = tail === undefined ? [] : part(tail);
  const groups = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
};

/** The network of an address (what the kernel's prefix route is for), as ip prints it. */
export const networkOf = (a: Address): string | undefined => {
  if (a.family === 'inet') {
    const o = a.local.split('.').map(Number);
    if (o.length !== 4) return undefined;
    const n = o.reduce((acc, x) => acc * 256 + x, 0);
    const mask = a.prefixlen === 0 ? 0 : 2 ** 32 - 2 ** (32 - a.prefixlen);
    const net = Number((BigInt(n) & BigInt(mask)).toString());
    return `${[24, 16, 8, 0].map((s) => (net / 2 ** s) & 255).join('.')}/${a.prefixlen}`;
  }
  const g = v6Groups(a.local);
  if (g === undefined) return undefined;
  const masked = g.map((x, i) => {
    const bits = Math.max(0, Math.min(16, a.prefixlen - 16 * i));
    return x & (bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff);
  });
  // ip's form: the longest run of zero groups as ::.
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && masked[j] === 0) j++;
    if (j - i > (best[1] ?? 0)) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = masked.map((x) => x.toString(16));
  const [at = -1, len = 0] = best;
  const text = len >= 2 ? `${hex.slice(0, at).join(':')}::${hex.slice(at + len).join(':')}` : hex.join(':');
  return `${text}/${a.prefixlen}`;
};

/**
 * The routes the kernel made for the addresses when the link held them (gone
 * with the addresses, so not in the record): prefix routes, and fe80::/64.
 */
const kernelRoutes = (addresses: readonly Address[], dev: string): Route[] =>
  addresses.flatMap((a): Route[] => {
    const dst = a.family === 'inet6' && a.local.toLowerCase().startsWith('fe80:') ? 'fe80::/64' : networkOf(a);
    if (dst === undefined) return [];
    const base = { gateway: undefined, dev, table: undefined, type: undefined, protocol: 'kernel', family: a.family } as const;
    return a.family === 'inet'
      ? [{ ...base, dst, scope: 'link', prefsrc: a.local, metric: undefined }]
      : [{ ...base, dst, scope: undefined, prefsrc: undefined, metric: 256 }];
  });

/** A recorded address as the scan shows one (the record holds ip's words: addrWords). */
const addressOfWords = (words: readonly string[]): Address | undefined => {
  const a = addrSpecOfWords(words);
  return a === undefined ? undefined : { family: a.local.includes(':') ? 'inet6' : 'inet', ...a };
};

/** A recorded route as the scan shows one, through `dev` (the record holds routeSpecWords). */
const routeOfWords = (words: readonly string[], dev: string): Route | undefined => {
  const r = routeSpecOfWords(words);
  if (r === undefined) return undefined;
  // 'default' loses the family in the words only when written as such; a v6 gateway says it.
  const family = r.family === 'inet' && (r.gateway ?? '').includes(':') ? 'inet6' : r.family;
  return {
    dst: r.dst,
    gateway: r.gateway,
    dev,
    table: r.table,
    type: r.type,
    protocol: r.protocol,
    scope: r.scope,
    prefsrc: r.prefsrc,
    metric: r.metric,
    family,
  };
};

/**
 * The scan as the guest must see it: links attached earlier with model
 * macvtap get their recorded addresses and routes back (and the kernel routes
 * those addresses imply). A fresh attachment needs nothing (the scan was
 * taken before it). Pure; `snapshot` itself when there is nothing to restore.
 */
export const podAsAttached = <S extends Pick<Snapshot, 'links' | 'routes'>>(snapshot: S, attachments: readonly Attachment[]): S => {
  const restored = new Map<string, { addresses: Address[]; routes: Route[] }>();
  for (const a of attachments) {
    if (a.model !== 'macvtap' || a.existing !== true) continue;
    const device = snapshot.links.find((l) => l.name === a.tapName);
    const record = device?.alias === undefined ? undefined : decodeRecord(device.alias);
    if (record === undefined || E.isLeft(record)) continue;
    const addresses = record.right.addresses.flatMap((w) => addressOfWords(w) ?? []);
    restored.set(a.link, { addresses, routes: [...kernelRoutes(addresses, a.link), ...record.right.routes.flatMap((w) => routeOfWords(w, a.link) ?? [])] });
  }
  if (restored.size === 0) return snapshot;
  return {
    ...snapshot,
    links: snapshot.links.map((l) => {
      const r = restored.get(l.name);
      return r === undefined ? l : { ...l, addresses: [...l.addresses, ...r.addresses] };
    }),
    routes: [...snapshot.routes, ...[...restored.values()].flatMap((r) => r.routes)],
  };
};
