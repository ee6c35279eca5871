// Op data (action.ts) as rtnetlink requests, with the ip(8) defaults the
// iproute2 executor gets from the tool (route type unicast, protocol boot,
// table main, scope from the gateway), so both executors make the same netns.
import * as E from 'fp-ts/lib/Either.js';
import { netlink } from '@tapwire/sys';
import type { Action, AddrSpec, RouteSpec } from './action.js';

type Request = netlink.Request;

const SCOPES: Readonly<Record<string, number>> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const TABLES: Readonly<Record<string, number>> = { unspec: 0, default: 253, main: 254, local: 255 };
const PROTOCOLS: Readonly<Record<string, number>> = {
  unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4, gated: 8, ra: 9, mrt: 10, zebra: 11, bird: 12, dnrouted: 13, xorp: 14, ntk: 15, dhcp: 16,
  keepalived: 18, babel: 42, openr: 99, bgp: 186, isis: 187, ospf: 188, rip: 189, eigrp: 192,
};
const TYPES: Readonly<Record<string, number>> = { unspec: 0, unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9, nat: 10 };
const MACVLAN_MODE = 1;
const MACVLAN_MODE_BRIDGE = 4;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_HOST = 254;
const RT_SCOPE_NOWHERE = 255;

/** Why an action has no request: the same words ip would say. */
export interface Unsendable {
  readonly errno: number;
  readonly message: string;
}

const named = (table: Readonly<Record<string, number>>, what: string, v: string, max: number): E.Either<Unsendable, number> => {
  const n = table[v] ?? (/^\d+$/.test(v) ? Number(v) : undefined);
  return n !== undefined && n <= max ? E.right(n) : E.left({ errno: 22, message: `unknown ${what} ${JSON.stringify(v)}` });
};

/** Index of a device by name, undefined when there is none. */
export type Resolve = (name: string) => number | undefined;

const index = (resolve: Resolve, name: string): E.Either<Unsendable, number> => {
  const i = resolve(name);
  return i === undefined ? E.left({ errno: 19, message: `Cannot find device ${JSON.stringify(name)}` }) : E.right(i);
};

const addr = (op: 'add' | 'del', dev: number, a: AddrSpec, nodad: boolean): E.Either<Unsendable, Request> =>
  E.map((scope: number): Request => ({ _tag: 'Addr', op, index: dev, local: a.local, prefixlen: a.prefixlen, scope, nodad, ...(a.broadcast === undefined ? {} : { broadcast: a.broadcast }) }))(
    named(SCOPES, 'scope', a.scope, 255),
  );

const route = (op: 'replace' | 'del', oif: number, r: RouteSpec): E.Either<Unsendable, Request> => {
  const v6 = r.family === 'inet6';
  const [prefix = '', len] = r.dst === 'default' ? [v6 ? '::' : '0.0.0.0', '0'] : r.dst.split('/');
  const dstLen = len === undefined ? (v6 ? 128 : 32) : Number(len);
  const type = named(TYPES, 'route type', r.type ?? (op === 'del' ? 'unspec' : 'unicast'), 255);
  const table = named(TABLES, 'table', r.table ?? 'main', 0xffffffff);
  const protocol = named(PROTOCOLS, 'protocol', r.protocol ?? (op === 'del' ? 'unspec' : 'boot'), 255);
  if (E.isLeft(type)) return type;
  if (E.isLeft(table)) return table;
  if (E.isLeft(protocol)) return protocol;
  let scope: number;
  if (r.scope !== undefined) {
    const s = named(SCOPES, 'scope', r.scope, 255);
    if (E.isLeft(s)) return s;
    scope = s.right;
  } else if (op === 'del') scope = RT_SCOPE_NOWHERE;
  // ip route's default scope (iproute.c): host for local/nat, link for
  // broadcast/multicast/anycast and for unicast without a gateway.
  else if (type.right === TYPES.local || type.right === TYPES.nat) scope = RT_SCOPE_HOST;
  else if (type.right === TYPES.broadcast || type.right === TYPES.multicast || type.right === TYPES.anycast) scope = RT_SCOPE_LINK;
  else if (type.right === TYPES.unicast && r.gateway === undefined) scope = RT_SCOPE_LINK;
  else scope = RT_SCOPE_UNIVERSE;
  return E.right({
    _tag: 'Route',
    op,
    dst: prefix,
    dstLen,
    table: table.right,
    protocol: protocol.right,
    scope,
    type: type.right,
    oif,
    ...(r.gateway === undefined ? {} : { gateway: r.gateway }),
    ...(r.prefsrc === undefined ? {} : { prefsrc: r.prefsrc }),
    ...(r.metric === undefined ? {} : { metric: r.metric }),
  });
};

/** The request for one action (TapAdd is no request: the tun ioctls make taps). */
export const requestOf = (a: Exclude<Action, { _tag: 'TapAdd' }>, resolve: Resolve): E.Either<Unsendable, Request> => {
  switch (a._tag) {
    case 'MacvtapAdd':
      return E.map((link: number): Request => ({ _tag: 'NewLink', name: a.name, link, kind: 'macvtap', infoData: [[MACVLAN_MODE, MACVLAN_MODE_BRIDGE]] }))(index(resolve, a.link));
    // By name: the device may be made earlier in the same pipelined batch.
    case 'LinkSet':
      return E.right({ _tag: 'SetLink', dev: a.dev, ...a.set });
    case 'LinkDel':
      return E.right({ _tag: 'DelLink', dev: a.dev });
    case 'LinkDelGroup':
      return E.right({ _tag: 'DelLinkGroup', group: a.group });
    case 'AddrAdd':
      return E.chain((i: number) => addr('add', i, a.addr, a.nodad))(index(resolve, a.dev));
    case 'AddrDel':
      return E.chain((i: number) => addr('del', i, a.addr, false))(index(resolve, a.dev));
    case 'RouteReplace':
      return E.chain((i: number) => route('replace', i, a.route))(index(resolve, a.dev));
    case 'RouteDel':
      return E.chain((i: number) => route('del', i, a.route))(index(resolve, a.dev));
    case 'IngressAdd':
      return E.map((i: number): Request => ({ _tag: 'Qdisc', op: 'add', index: i }))(index(resolve, a.dev));
    case 'NoqueueAdd':
      return E.map((i: number): Request => ({ _tag: 'RootNoqueue', index: i }))(index(resolve, a.dev));
    case 'IngressDel':
      return E.map((i: number): Request => ({ _tag: 'Qdisc', op: 'del', index: i }))(index(resolve, a.dev));
    case 'RedirectAdd':
      return E.chain((i: number) => E.map((to: number): Request => ({ _tag: 'FilterRedirect', index: i, parent: netlink.INGRESS_HANDLE, target: to }))(index(resolve, a.to)))(index(resolve, a.dev));
    case 'FilterDel':
      return E.map((i: number): Request => ({ _tag: 'FilterDel', index: i, parent: netlink.INGRESS_HANDLE }))(index(resolve, a.dev));
  }
};
