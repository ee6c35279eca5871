// The pod as its guest must see it when a link was attached before this
// launch with model macvtap: attach took the link's addresses and routes off
// it and kept them only in the macvtap's alias record (what detach puts back).
// They are read from there and given back to the link in a copy of the scan,
// so the guest gets the pod's addressing as if the link still held it. Pure.
//
// The record's words are netmodel's own format (ip addr/route words); the
// parse here mirrors netmodel's addrSpecOfWords/routeSpecOfWords, which its
// index does not export.
import * as E from 'fp-ts/lib/Either.js';
import type { Address, Route, Snapshot } from '@tapwire/endpoints';
import { decodeRecord, type Attachment } from '@tapwire/netmodel';

const addressOf = (words: readonly string[]): Address | undefined => {
  const [cidr, ...rest] = words;
  const m = /^(.+)\/(\d+)$/.exec(cidr ?? '');
  if (m?.[1] === undefined) return undefined;
  let scope = 'global';
  let broadcast: string | undefined;
  for (let i = 0; i + 1 < rest.length; i += 2) {
    if (rest[i] === 'scope') scope = rest[i + 1] ?? scope;
    if (rest[i] === 'broadcast' || rest[i] === 'brd') broadcast = rest[i + 1];
  }
  return { family: m[1].includes(':') ? 'inet6' : 'inet', local: m[1], prefixlen: Number(m[2]), scope, ...(broadcast === undefined ? {} : { broadcast }) };
};

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat']);

const routeOf = (words: readonly string[], dev: string): Route | undefined => {
  let i = 0;
  const type = ROUTE_TYPES.has(words[0] ?? '') ? words[i++] : undefined;
  const dst = words[i++];
  if (dst === undefined) return undefined;
  const kv = new Map<string, string>();
  for (; i + 1 < words.length; i += 2) kv.set(words[i] ?? '', words[i + 1] ?? '');
  const metric = kv.get('metric');
  return {
    dst: dst === '0.0.0.0/0' || dst === '::/0' ? 'default' : dst,
    gateway: kv.get('via'),
    dev,
    table: kv.get('table'),
    type,
    protocol: kv.get('proto'),
    scope: kv.get('scope'),
    prefsrc: kv.get('src'),
    metric: metric === undefined ? undefined : Number(metric),
    family: dst.includes(':') || (kv.get('via') ?? '').includes(':') ? 'inet6' : 'inet',
  };
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

/** ip words as a record stores them: one string per command (split on blanks). */
const words = (argv: readonly string[]): string[] => argv.flatMap((w) => w.split(/\s+/).filter((x) => x !== ''));

export const podAsAttached = (snapshot: Snapshot, attachments: readonly Attachment[]): Snapshot => {
  const restored = new Map<string, { addresses: Address[]; routes: Route[] }>();
  for (const a of attachments) {
    if (a.model !== 'macvtap' || a.existing !== true) continue;
    const device = snapshot.links.find((l) => l.name === a.tapName);
    const record = device?.alias === undefined ? undefined : decodeRecord(device.alias);
    if (record === undefined || E.isLeft(record)) continue;
    const addresses = record.right.addresses.flatMap((w) => addressOf(words(w)) ?? []);
    restored.set(a.link, { addresses, routes: [...kernelRoutes(addresses, a.link), ...record.right.routes.flatMap((w) => routeOf(words(w), a.link) ?? [])] });
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
