// What an op does, as data: the ip/tc argv `plan` prints and the rtnetlink
// requests the netlink executor sends are both rendered from it (argv.ts,
// netlink-requests.ts), so neither is ever parsed back from the other.
import type { Argv, Tool } from './model.js';

/** An address as `ip addr` words carry it (restore-words.ts). */
export interface AddrSpec {
  readonly local: string;
  readonly prefixlen: number;
  readonly broadcast?: string;
  /** ip's scope name (global, link, host, site) or a number. */
  readonly scope: string;
}

/** A route as `ip route` words carry it; names as ip prints them. */
export interface RouteSpec {
  readonly family: 'inet' | 'inet6';
  /** 'default' or a prefix (an address without /len is a host route). */
  readonly dst: string;
  readonly type?: string;
  readonly gateway?: string;
  readonly table?: string;
  readonly protocol?: string;
  readonly scope?: string;
  readonly prefsrc?: string;
  readonly metric?: number;
}

export type LinkSetting =
  | { readonly alias: string }
  | { readonly mtu: number }
  | { readonly txqlen: number }
  | { readonly address: string }
  | { readonly group: number }
  | { readonly up: boolean };

export type Action =
  | { readonly _tag: 'TapAdd'; readonly name: string; readonly multiQueue: boolean; readonly owner?: number; readonly group?: number }
  | { readonly _tag: 'MacvtapAdd'; readonly link: string; readonly name: string }
  | { readonly _tag: 'LinkSet'; readonly dev: string; readonly set: LinkSetting }
  | { readonly _tag: 'LinkDel'; readonly dev: string }
  | { readonly _tag: 'LinkDelGroup'; readonly group: number }
  | { readonly _tag: 'AddrAdd'; readonly dev: string; readonly addr: AddrSpec; readonly nodad: boolean }
  | { readonly _tag: 'AddrDel'; readonly dev: string; readonly addr: AddrSpec }
  | { readonly _tag: 'RouteReplace'; readonly dev: string; readonly route: RouteSpec }
  | { readonly _tag: 'RouteDel'; readonly dev: string; readonly route: RouteSpec }
  | { readonly _tag: 'IngressAdd'; readonly dev: string }
  /** A root qdisc that passes everything straight to the driver (see plan.ts tcfilterPhases). */
  | { readonly _tag: 'NoqueueAdd'; readonly dev: string }
  | { readonly _tag: 'IngressDel'; readonly dev: string }
  /** A u32 match-everything filter on dev's ingress redirecting to `to` (mirred egress redirect). */
  | { readonly _tag: 'RedirectAdd'; readonly dev: string; readonly to: string }
  | { readonly _tag: 'FilterDel'; readonly dev: string };

/** Which tool's -batch runs an action in the iproute2 executor. */
export const toolOf = (a: Action): Tool =>
  a._tag === 'IngressAdd' || a._tag === 'NoqueueAdd' || a._tag === 'IngressDel' || a._tag === 'RedirectAdd' || a._tag === 'FilterDel' ? 'tc' : 'ip';

/** The device names an action touches or looks up (none for a group delete). */
export const devicesOf = (a: Action): readonly string[] => {
  switch (a._tag) {
    case 'TapAdd':
      return [a.name];
    case 'MacvtapAdd':
      return [a.link, a.name];
    case 'RedirectAdd':
      return [a.dev, a.to];
    case 'LinkDelGroup':
      return [];
    default:
      return [a.dev];
  }
};

/** `ip addr add` words re-creating one address (without `dev`). */
export const addrWords = (a: AddrSpec): Argv => [
  `${a.local}/${a.prefixlen}`,
  ...(a.broadcast === undefined ? [] : ['broadcast', a.broadcast]),
  ...(a.scope === 'global' ? [] : ['scope', a.scope]),
];

/** `ip route` words re-creating one route (without `dev`). */
export const routeSpecWords = (r: RouteSpec): Argv => [
  ...(r.type === undefined || r.type === 'unicast' ? [] : [r.type]),
  r.dst === 'default' ? (r.family === 'inet6' ? '::/0' : '0.0.0.0/0') : r.dst,
  ...(r.gateway === undefined ? [] : ['via', r.gateway]),
  ...(r.table === undefined || r.table === 'main' ? [] : ['table', r.table]),
  ...(r.protocol === undefined || r.protocol === 'boot' ? [] : ['proto', r.protocol]),
  ...(r.scope === undefined ? [] : ['scope', r.scope]),
  ...(r.prefsrc === undefined ? [] : ['src', r.prefsrc]),
  ...(r.metric === undefined ? [] : ['metric', String(r.metric)]),
];

const settingWords = (s: LinkSetting): Argv => {
  if ('alias' in s) return ['alias', s.alias];
  if ('mtu' in s) return ['mtu', String(s.mtu)];
  if ('txqlen' in s) return ['txqueuelen', String(s.txqlen)];
  if ('address' in s) return ['address', s.address];
  if ('group' in s) return ['group', String(s.group)];
  return [s.up ? 'up' : 'down'];
};

/** The action as the argv (without the tool name) of one ip or tc command. */
export const argvOf = (a: Action): Argv => {
  switch (a._tag) {
    case 'TapAdd':
      return ['tuntap', 'add', 'dev', a.name, 'mode', 'tap', 'vnet_hdr', ...(a.multiQueue ? ['multi_queue'] : []), ...(a.owner === undefined ? [] : ['user', String(a.owner)]), ...(a.group === undefined ? [] : ['group', String(a.group)])];
    case 'MacvtapAdd':
      return ['link', 'add', 'link', a.link, 'name', a.name, 'type', 'macvtap', 'mode', 'bridge'];
    case 'LinkSet':
      return ['link', 'set', 'dev', a.dev, ...settingWords(a.set)];
    case 'LinkDel':
      return ['link', 'del', 'dev', a.dev];
    case 'LinkDelGroup':
      return ['link', 'del', 'group', String(a.group)];
    case 'AddrAdd': {
      const words = addrWords(a.addr);
      return ['addr', 'add', ...words, ...(a.nodad ? ['nodad'] : []), 'dev', a.dev];
    }
    case 'AddrDel':
      return ['addr', 'del', `${a.addr.local}/${a.addr.prefixlen}`, 'dev', a.dev];
    case 'RouteReplace':
      return ['route', 'replace', ...routeSpecWords(a.route), 'dev', a.dev];
    case 'RouteDel':
      return ['route', 'del', ...routeSpecWords(a.route), 'dev', a.dev];
    case 'IngressAdd':
      return ['qdisc', 'add', 'dev', a.dev, 'ingress'];
    case 'IngressDel':
      return ['qdisc', 'del', 'dev', a.dev, 'ingress'];
    case 'NoqueueAdd':
      return ['qdisc', 'add', 'dev', a.dev, 'root', 'handle', '1:', 'noqueue'];
    case 'RedirectAdd':
      return ['filter', 'add', 'dev', a.dev, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u8', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', a.to];
    case 'FilterDel':
      return ['filter', 'del', 'dev', a.dev, 'parent', 'ffff:'];
  }
};

/**
 * The words of an address record (addrWords' output, from an alias record)
 * as data again: the record is our own format, written by addrWords.
 */
export const addrSpecOfWords = (words: Argv): AddrSpec | undefined => {
  const [cidr, ...rest] = words;
  const m = /^(.+)\/(\d+)$/.exec(cidr ?? '');
  if (m === null) return undefined;
  let broadcast: string | undefined;
  let scope = 'global';
  for (let i = 0; i < rest.length; i += 2) {
    const v = rest[i + 1];
    if (v === undefined) return undefined;
    if (rest[i] === 'broadcast') broadcast = v;
    else if (rest[i] === 'scope') scope = v;
    else return undefined;
  }
  return { local: m[1] as string, prefixlen: Number(m[2]), scope, ...(broadcast === undefined ? {} : { broadcast }) };
};

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat']);

/** The words of a route record (routeSpecWords' output) as data again. */
export const routeSpecOfWords = (words: Argv): RouteSpec | undefined => {
  let i = 0;
  const type = ROUTE_TYPES.has(words[0] ?? '') ? words[i++] : undefined;
  const dst = words[i++];
  if (dst === undefined) return undefined;
  const family = dst.includes(':') ? 'inet6' : 'inet';
  const spec: { -readonly [K in keyof RouteSpec]: RouteSpec[K] } = { family, dst: dst === '::/0' || dst === '0.0.0.0/0' ? 'default' : dst, ...(type === undefined ? {} : { type }) };
  const keys: Readonly<Record<string, 'gateway' | 'table' | 'protocol' | 'scope' | 'prefsrc' | 'metric'>> = { via: 'gateway', table: 'table', proto: 'protocol', scope: 'scope', src: 'prefsrc', metric: 'metric' };
  for (; i < words.length; i += 2) {
    const k = keys[words[i] ?? ''];
    const v = words[i + 1];
    if (k === undefined || v === undefined) return undefined;
    if (k === 'metric') spec.metric = Number(v);
    else spec[k] = v;
  }
  return spec;
};
