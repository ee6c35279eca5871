// Pure functions over a NetnsView: which attachments it holds, how they drifted,
// and the commands that remove them.
import * as E from 'fp-ts/lib/Either.js';
import type { Link } from '@tapwire/endpoints';
import type { Finding } from './findings.js';
import { describeParent, expectedLower, isOnLowerOf } from './lower.js';
import type { Attachment } from './model.js';
import { addrSpecOfWords, routeSpecOfWords, type Action } from './action.js';
import { readdAddress } from './restore-words.js';
import { decodeRecord, isTapwireAlias, type AttachRecord } from './record.js';
import type { NetnsView } from './state.js';
import { isIngress, redirectTarget } from './tc-json.js';
import { perView } from './per-view.js';
import { viewIndex } from './view-index.js';

export interface Found {
  /** The device tapwire made (tap or macvtap), carrying the record in its alias. */
  readonly device: Link;
  readonly record: AttachRecord;
  /** The endpoint, found by the recorded ifindex; undefined when it is gone. */
  readonly link: Link | undefined;
}

export const findAttachments: (view: NetnsView) => readonly Found[] = perView((view) =>
  view.links.flatMap((device) => {
    if (!isTapwireAlias(device.alias)) return [];
    const record = decodeRecord(device.alias);
    if (E.isLeft(record)) return [];
    return [{ device, record: record.right, link: viewIndex(view).linkByIfindex.get(record.right.ifindex) }];
  }),
);

const attachmentsByLink = perView((view) => {
  const m = new Map<number, Found>();
  for (const f of findAttachments(view)) if (!m.has(f.record.ifindex)) m.set(f.record.ifindex, f);
  return m;
});

/** The attachment recorded for the endpoint of this ifindex, if any (the first, as a search would find). */
export const attachmentOfLink = (view: NetnsView, ifindex: number): Found | undefined => attachmentsByLink(view).get(ifindex);

export const attachmentOf = (f: Found): Attachment => ({
  link: f.link?.name ?? `if${f.record.ifindex}`,
  model: f.record.model,
  tapName: f.device.name,
  queues: f.record.queues,
  multiQueue: f.record.queues > 1,
  guestMac: f.record.mac,
  mtu: f.device.mtu,
  device: f.record.model === 'tcfilter' ? 'tap' : 'macvtap',
});

const hasIngress = (view: NetnsView, dev: string): boolean => viewIndex(view).withIngress.has(dev);
const redirects = (view: NetnsView, from: string, to: string): boolean => (view.filters[from] ?? []).some((f) => redirectTarget(f) === to);

/** Drift of one found attachment; empty when the netns holds exactly what attach made. */
export const findingsOf = (view: NetnsView, f: Found): Finding[] => {
  const out: Finding[] = [];
  const T = f.device.name;
  const L = f.link;
  if (L === undefined) {
    return [{ _tag: 'LinkMissing', link: `ifindex ${f.record.ifindex}`, message: `the endpoint (ifindex ${f.record.ifindex}) of ${T} is gone` }];
  }
  if (!f.device.flags.includes('UP')) out.push({ _tag: 'DeviceDown', device: T, message: `${T} is down` });
  if (f.device.mtu !== L.mtu) {
    out.push({ _tag: 'MtuMismatch', device: T, expected: L.mtu, found: f.device.mtu, message: `${T} has MTU ${f.device.mtu}, ${L.name} has ${L.mtu}` });
  }
  if (f.record.model === 'tcfilter') {
    if (L.mac !== f.record.mac) {
      out.push({ _tag: 'MacChanged', device: L.name, expected: f.record.mac, found: L.mac ?? '-', message: `${L.name}'s MAC is ${L.mac ?? 'gone'}, the guest uses ${f.record.mac}` });
    }
    for (const dev of [L.name, T]) {
      if (!hasIngress(view, dev)) out.push({ _tag: 'QdiscMissing', device: dev, message: `${dev} has no ingress qdisc` });
    }
    for (const [from, to] of [[L.name, T], [T, L.name]] as const) {
      if (!redirects(view, from, to)) out.push({ _tag: 'FilterMissing', from, to, message: `no filter redirects ${from} to ${to}` });
    }
  } else {
    if (f.device.mac !== f.record.mac) {
      out.push({ _tag: 'MacChanged', device: T, expected: f.record.mac, found: f.device.mac ?? '-', message: `${T}'s MAC is ${f.device.mac ?? 'gone'}, expected ${f.record.mac}` });
    }
    // On a macvlan endpoint the kernel puts the macvtap on the macvlan's own lower device.
    if (!isOnLowerOf(f.device, L)) {
      const expected = expectedLower(L);
      const found = describeParent(f.device.parent);
      out.push({ _tag: 'WrongLower', device: T, expected, found, message: `${T} is on ${found}, not on ${expected}` });
    }
    const addrs = L.addresses.filter((a) => !(a.family === 'inet6' && a.scope === 'link'));
    if (addrs.length > 0) {
      const list = addrs.map((a) => `${a.local}/${a.prefixlen}`);
      out.push({ _tag: 'AddressesOnLink', link: L.name, addresses: list, message: `${L.name} has addresses again (${list.join(', ')}): the host and the guest would both answer for them` });
    }
  }
  return out;
};

/** What detach does, as data (action.ts): ip/tc argv and netlink requests are rendered from it. */
export interface DetachCommands {
  readonly tc: Action[];
  readonly ip: Action[];
}

/** What removes one attachment and restores its endpoint; only commands that still have work to do. */
export const detachCommands = (view: NetnsView, f: Found): DetachCommands => {
  const T = f.device.name;
  const L = f.link;
  if (f.record.model === 'tcfilter') {
    const txqlen = f.record.txqlen;
    return {
      tc: L !== undefined && hasIngress(view, L.name) ? [{ _tag: 'IngressDel', dev: L.name }] : [],
      // ip runs after tc: the qdisc that raised the txqueuelen is gone by then.
      ip: [...(L !== undefined && txqlen !== undefined && (L.txqlen ?? 0) !== txqlen ? [{ _tag: 'LinkSet', dev: L.name, set: { txqlen } } as const] : []), { _tag: 'LinkDel', dev: T }],
    };
  }
  if (L === undefined) return { tc: [], ip: [{ _tag: 'LinkDel', dev: T }] };
  const present = new Set(L.addresses.map((a) => `${a.local}/${a.prefixlen}`));
  // The macvtap (and the record in its alias) goes last: a detach killed half
  // way leaves the record, and running detach again finishes the restore
  // (each line below is skipped or idempotent once done). On a macvlan
  // endpoint it goes down first: the macvlan cannot take its MAC back while an
  // up macvtap on the same lower device holds it (EADDRINUSE). Only there: a
  // down waits for an RCU grace period (~16 ms a device).
  const takesMacBack = L.mac !== f.record.mac;
  return {
    tc: [],
    ip: [
      ...(takesMacBack && L.kind === 'macvlan' && f.device.flags.includes('UP') ? [{ _tag: 'LinkSet', dev: T, set: { up: false } } as const] : []),
      ...(takesMacBack ? [{ _tag: 'LinkSet', dev: L.name, set: { address: f.record.mac } } as const] : []),
      // The record's words are addrWords/routeSpecWords output (record.ts checks them): data again.
      ...f.record.addresses.filter((ws) => !present.has(ws[0] ?? '')).flatMap((ws): Action[] => {
        const spec = addrSpecOfWords(ws);
        return spec === undefined ? [] : [readdAddress(spec, L.name)];
      }),
      ...f.record.routes.flatMap((ws): Action[] => {
        const route = routeSpecOfWords(ws);
        return route === undefined ? [] : [{ _tag: 'RouteReplace', dev: L.name, route }];
      }),
      { _tag: 'LinkDel', dev: T },
    ],
  };
};
