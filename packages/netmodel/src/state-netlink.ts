// The NetnsView from rtnetlink instead of ip/tc processes: links and routes
// from the endpoints scan's dumps, and here the qdiscs, the ingress filters
// of the devices that have an ingress qdisc, and DETACH_GROUP's members, in
// one more visit to the netns. Filters carry what netmodel reads (kind,
// pref, protocol and the mirred redirect target), named as tc -j names them.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { scan } from '@tapwire/endpoints';
import { inNetnsSync, netlink, type NetnsHandle, type SysError } from '@tapwire/sys';
import { fromEndpoints, fromSys, type NetmodelError } from './errors.js';
import { DETACH_GROUP } from './model.js';
import type { NetnsView } from './state.js';
import type { TcFilter, TcQdisc } from './tc-json.js';

const { RTM, parseAttrs, attrList, readU32, readI32, cstr } = netlink;
type Received = netlink.Received;

const TC_H_ROOT = 0xffffffff;
const IFLA_GROUP = 27;
const TCA_U32_ACT = 7;
const TCA_ACT_KIND = 1;
const TCA_ACT_OPTIONS = 2;
const TCA_MIRRED_PARMS = 2;
const MIRRED: Readonly<Record<number, { direction: string; mirred_action: string }>> = {
  1: { direction: 'egress', mirred_action: 'redirect' },
  2: { direction: 'egress', mirred_action: 'mirror' },
  3: { direction: 'ingress', mirred_action: 'redirect' },
  4: { direction: 'ingress', mirred_action: 'mirror' },
};
const PROTOCOLS: Readonly<Record<number, string>> = { 0x0003: 'all', 0x0800: 'ip', 0x86dd: 'ipv6', 0x0806: 'arp', 0x8100: '802.1Q', 0x88a8: '802.1ad' };

/** A qdisc's handle as tc prints it: its major number, "ffff:", "0:". */
export const tcHandle = (h: number): string => `${(h >>> 16).toString(16)}:`;

/** A parent as tc's print_tc_classid writes it: "ffff:fff1", "ffff:", ":1", "none". */
export const tcClassid = (h: number): string => {
  const maj = (h >>> 16).toString(16);
  const min = (h & 0xffff).toString(16);
  if (h === 0) return 'none';
  if (h >>> 16 === 0) return `:${min}`;
  if ((h & 0xffff) === 0) return `${maj}:`;
  return `${maj}:${min}`;
};

const ntohs = (v: number): number => ((v & 0xff) << 8) | ((v >> 8) & 0xff);

export const decodeQdiscs = (msgs: readonly Received[], names: ReadonlyMap<number, string>): TcQdisc[] =>
  msgs.flatMap((m): TcQdisc[] => {
    if (m.type !== RTM.NEWQDISC || m.payload.length < 20) return [];
    const index = readI32(m.payload, 4);
    const handle = readU32(m.payload, 8);
    const parent = readU32(m.payload, 12);
    const kind = parseAttrs(m.payload.subarray(20)).get(netlink.TCA.KIND);
    return [{
      kind: kind === undefined ? '' : cstr(kind),
      handle: tcHandle(handle),
      dev: names.get(index) ?? `if${index}`,
      ...(parent === TC_H_ROOT ? { root: true } : { parent: tcClassid(parent) }),
    }];
  });

const mirredActions = (options: Buffer, names: ReadonlyMap<number, string>): TcFilter['options'] => {
  const acts = parseAttrs(options).get(TCA_U32_ACT);
  if (acts === undefined) return undefined;
  const actions = attrList(acts).map(([, act]) => {
    const a = parseAttrs(act);
    const kind = a.get(TCA_ACT_KIND);
    const out: { kind?: string; to_dev?: string; direction?: string; mirred_action?: string } = { ...(kind === undefined ? {} : { kind: cstr(kind) }) };
    const parms = a.get(TCA_ACT_OPTIONS) === undefined ? undefined : parseAttrs(a.get(TCA_ACT_OPTIONS) as Buffer).get(TCA_MIRRED_PARMS);
    if (out.kind === 'mirred' && parms !== undefined && parms.length >= 28) {
      const eaction = readI32(parms, 20);
      const ifindex = readU32(parms, 24);
      Object.assign(out, MIRRED[eaction] ?? {}, { to_dev: ifindex === 0 ? '*' : (names.get(ifindex) ?? `if${ifindex}`) });
    }
    return out;
  });
  return { actions };
};

export const decodeFilters = (msgs: readonly Received[], names: ReadonlyMap<number, string>): TcFilter[] =>
  msgs.flatMap((m): TcFilter[] => {
    if (m.type !== RTM.NEWTFILTER || m.payload.length < 20) return [];
    const parent = readU32(m.payload, 12);
    const info = readU32(m.payload, 16);
    const attrs = parseAttrs(m.payload.subarray(20));
    const kind = attrs.get(netlink.TCA.KIND);
    const options = attrs.get(netlink.TCA.OPTIONS);
    const protocol = ntohs(info & 0xffff);
    const decoded = options === undefined ? undefined : mirredActions(options, names);
    return [{
      parent: tcClassid(parent),
      protocol: PROTOCOLS[protocol] ?? `[${protocol.toString(16)}]`,
      pref: info >>> 16,
      ...(kind === undefined ? {} : { kind: cstr(kind) }),
      ...(decoded === undefined ? {} : { options: decoded }),
    }];
  });

const tcAndGroups = (ns: NetnsHandle, names: ReadonlyMap<number, string>, withFilters: boolean): E.Either<SysError, Pick<NetnsView, 'qdiscs' | 'filters' | 'inDetachGroup'>> =>
  inNetnsSync(ns, () => {
    const sock = netlink.openNetlinkSocket();
    if (E.isLeft(sock)) return sock;
    try {
      const s = sock.right;
      const q = s.dump({ _tag: 'Dump', type: RTM.GETQDISC, family: 0 });
      if (E.isLeft(q)) return q;
      const qdiscs = decodeQdiscs(q.right, names);
      const filters: Record<string, readonly TcFilter[]> = Object.fromEntries([...names.values()].map((n) => [n, [] as readonly TcFilter[]]));
      // Only a device with an ingress qdisc has ingress filters.
      for (const m of withFilters ? q.right : []) {
        if (m.type !== RTM.NEWQDISC || readU32(m.payload, 8) !== netlink.INGRESS_HANDLE) continue;
        const index = readI32(m.payload, 4);
        const f = s.dump({ _tag: 'Dump', type: RTM.GETTFILTER, family: 0, index, parent: netlink.INGRESS_HANDLE });
        if (E.isLeft(f)) return f;
        filters[names.get(index) ?? `if${index}`] = decodeFilters(f.right, names);
      }
      const links = s.dump({ _tag: 'Dump', type: RTM.GETLINK, family: 0 });
      if (E.isLeft(links)) return links;
      const inDetachGroup = links.right.flatMap((m) => {
        const a = parseAttrs(m.payload.subarray(16));
        const group = a.get(IFLA_GROUP);
        const name = a.get(netlink.IFLA.IFNAME);
        return group !== undefined && readU32(group, 0) === DETACH_GROUP && name !== undefined ? [cstr(name)] : [];
      });
      return E.right({ qdiscs, filters, inDetachGroup });
    } finally {
      sock.right.close();
    }
  });

/**
 * readNetns without a process: two visits to the netns, six dumps plus one
 * per ingress qdisc unless withFilters is false (detachAll reads none: it
 * deletes qdiscs, filters go with them; the view's filters are then empty).
 */
export const readNetnsNetlink = (ns: NetnsHandle, withFilters = true): TE.TaskEither<NetmodelError, NetnsView> => async () => {
  const s = await scan(ns, { source: 'netlink', deviceInfo: false })();
  if (E.isLeft(s)) return E.left(fromEndpoints(s.left));
  const names = new Map(s.right.links.map((l) => [l.ifindex, l.name]));
  const rest = tcAndGroups(ns, names, withFilters);
  return E.isLeft(rest) ? E.left(fromSys(rest.left)) : E.right({ links: s.right.links, routes: s.right.routes, ...rest.right });
};
