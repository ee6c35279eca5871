// rtnetlink dumps (RTM_GETLINK/GETADDR/GETROUTE/GETNEIGH) decoded into the
// same model decode-ip.ts makes from `ip -j -d` JSON: names, flags and
// defaults as ip prints them, so a netlink scan is the Snapshot an ip scan is.
// Pure: tested on captured dump bytes; the socket lives in @tapwire/sys.
import { readFileSync } from 'node:fs';
import { netlink } from '@tapwire/sys';
import type { Address, Link, Neighbour, Route, TunInfo } from './model.js';

type Received = netlink.Received;
const { parseAttrs, readU16, readU32, readI32, cstr, ipText, AF_INET, AF_INET6 } = netlink;

const IFLA_LINK_NETNSID = 37;
const IFLA_NUM_TX_QUEUES = 31;
const IFLA_NUM_RX_QUEUES = 32;
const IFLA_INFO_SLAVE_KIND = 4;

// print_link_flags order; NO-CARRIER first when up without IFF_RUNNING.
const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [0x8, 'LOOPBACK'], [0x2, 'BROADCAST'], [0x10, 'POINTOPOINT'], [0x1000, 'MULTICAST'], [0x80, 'NOARP'], [0x200, 'ALLMULTI'],
  [0x100, 'PROMISC'], [0x400, 'MASTER'], [0x800, 'SLAVE'], [0x4, 'DEBUG'], [0x8000, 'DYNAMIC'], [0x4000, 'AUTOMEDIA'],
  [0x2000, 'PORTSEL'], [0x20, 'NOTRAILERS'], [0x1, 'UP'], [0x10000, 'LOWER_UP'], [0x20000, 'DORMANT'], [0x40000, 'ECHO'],
];
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];
const LINK_TYPES: Readonly<Record<number, string>> = { 1: 'ether', 772: 'loopback', 65534: 'none', 768: 'ipip', 769: 'tunnel6', 776: 'sit', 778: 'gre', 823: 'ip6gre', 65535: 'void', 32: 'infiniband', 519: 'ieee802.15.4' };
const SCOPES: Readonly<Record<number, string>> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
const TABLES: Readonly<Record<number, string>> = { 253: 'default', 254: 'main', 255: 'local' };
const PROTOCOLS: Readonly<Record<number, string>> = {
  0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 8: 'gated', 9: 'ra', 10: 'mrt', 11: 'zebra', 12: 'bird', 13: 'dnrouted', 14: 'xorp', 15: 'ntk', 16: 'dhcp',
  18: 'keepalived', 42: 'babel', 99: 'openr', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip', 192: 'eigrp',
};
const ROUTE_TYPES = ['unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve'];
const NUD_NAMES: readonly (readonly [number, string])[] = [[0x01, 'INCOMPLETE'], [0x02, 'REACHABLE'], [0x04, 'STALE'], [0x08, 'DELAY'], [0x10, 'PROBE'], [0x20, 'FAILED'], [0x40, 'NOARP'], [0x80, 'PERMANENT']];
const NUD_NOARP = 0x40;
const RTM_F_CLONED = 0x200;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const RTA_MULTIPATH = 9;

const u32At = (attrs: netlink.Attrs, t: number): number | undefined => {
  const b = attrs.get(t);
  return b === undefined || b.length < 4 ? undefined : readU32(b, 0);
};
const u8At = (attrs: netlink.Attrs, t: number): number | undefined => attrs.get(t)?.[0];
const strAt = (attrs: netlink.Attrs, t: number): string | undefined => {
  const b = attrs.get(t);
  return b === undefined ? undefined : cstr(b);
};
const hwText = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** Names as ip's -d output shows them (getpwuid/getgrgid through the files). */
const idNames = (file: string): ReadonlyMap<number, string> => {
  try {
    return new Map(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(':')).map((l) => { const f = l.split(':'); return [Number(f[2]), f[0] ?? ''] as [number, string]; }));
  } catch {
    return new Map();
  }
};
let users: ReadonlyMap<number, string> | undefined;
let groups: ReadonlyMap<number, string> | undefined;

const MACVLAN_MODES: Readonly<Record<number, string>> = { 1: 'private', 2: 'vepa', 4: 'bridge', 8: 'passthru', 16: 'source' };

/** info_data as `ip -j -d` prints it, for the kinds tapwire meets; other kinds: {}. */
const kindDataOf = (kind: string | undefined, data: Buffer | undefined): Record<string, unknown> => {
  if (data === undefined) return {};
  const a = parseAttrs(data);
  if (kind === 'tun') {
    const type = u8At(a, 3);
    const multiQueue = u8At(a, 7) === 1;
    const out: Record<string, unknown> = { type: type === 1 ? 'tun' : type === 2 ? 'tap' : 'UNKNOWN', pi: u8At(a, 4) === 1, vnet_hdr: u8At(a, 5) === 1, multi_queue: multiQueue };
    if (multiQueue) {
      out['numqueues'] = u32At(a, 8);
      out['numdisabled'] = u32At(a, 9);
    }
    out['persist'] = u8At(a, 6) === 1;
    const owner = u32At(a, 1);
    const group = u32At(a, 2);
    if (owner !== undefined && owner !== 0xffffffff) out['user'] = (users ??= idNames('/etc/passwd')).get(owner) ?? String(owner);
    if (group !== undefined && group !== 0xffffffff) out['group'] = (groups ??= idNames('/etc/group')).get(group) ?? String(group);
    return out;
  }
  if (kind === 'macvlan' || kind === 'macvtap') {
    const mode = u32At(a, 1);
    const out: Record<string, unknown> = {};
    if (mode !== undefined) out['mode'] = MACVLAN_MODES[mode] ?? 'unknown';
    const flags = a.get(2) === undefined ? undefined : readU16(a.get(2) as Buffer, 0);
    if (flags !== undefined && (flags & 1) !== 0) out['flag'] = 'nopromisc';
    if (flags !== undefined && (flags & 2) !== 0) out['flag'] = 'nodst';
    const bc = u32At(a, 7);
    const bcUsed = u32At(a, 8);
    if (bc !== undefined) out['bcqueuelen'] = bc;
    if (bcUsed !== undefined) out['usedbcqueuelen'] = bcUsed;
    return out;
  }
  return {};
};

const tunInfo = (data: Readonly<Record<string, unknown>>): TunInfo => ({
  mode: data['type'] === 'tap' ? 'tap' : data['type'] === 'tun' ? 'tun' : 'unknown',
  multiQueue: data['multi_queue'] === true,
  vnetHdr: data['vnet_hdr'] === true,
  persist: data['persist'] === true,
  pi: data['pi'] === true,
});

interface RawLink {
  readonly ifindex: number;
  readonly type: number;
  readonly flags: number;
  readonly attrs: netlink.Attrs;
}

const rawLinks = (msgs: readonly Received[]): RawLink[] =>
  msgs.filter((m) => m.type === netlink.RTM.NEWLINK && m.payload.length >= 16).map((m) => ({ ifindex: readI32(m.payload, 4), type: readU16(m.payload, 2), flags: readU32(m.payload, 8), attrs: parseAttrs(m.payload.subarray(16)) }));

const flagNames = (flags: number): string[] => [...((flags & IFF_UP) !== 0 && (flags & IFF_RUNNING) === 0 ? ['NO-CARRIER'] : []), ...FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, n]) => n)];

const addressesByIndex = (msgs: readonly Received[]): Map<number, Address[]> => {
  const out = new Map<number, Address[]>();
  for (const m of msgs) {
    if (m.type !== netlink.RTM.NEWADDR || m.payload.length < 8) continue;
    const family = m.payload[0] ?? 0;
    if (family !== AF_INET && family !== AF_INET6) continue;
    const prefixlen = m.payload[1] ?? 0;
    const scope = m.payload[3] ?? 0;
    const index = readU32(m.payload, 4);
    const a = parseAttrs(m.payload.subarray(8));
    const local = a.get(netlink.IFA.LOCAL) ?? a.get(netlink.IFA.ADDRESS);
    if (local === undefined) continue;
    const brd = a.get(netlink.IFA.BROADCAST);
    const addr: Address = {
      family: family === AF_INET ? 'inet' : 'inet6',
      local: ipText(family, local),
      prefixlen,
      scope: SCOPES[scope] ?? String(scope),
      ...(brd === undefined ? {} : { broadcast: ipText(family, brd) }),
    };
    out.set(index, [...(out.get(index) ?? []), addr]);
  }
  return out;
};

/** Links with their addresses, as decodeLinks makes them from `ip -j -d addr show`. */
export const decodeNetlinkLinks = (links: readonly Received[], addrs: readonly Received[]): Link[] => {
  const raw = rawLinks(links);
  const names = new Map(raw.map((l) => [l.ifindex, strAt(l.attrs, netlink.IFLA.IFNAME) ?? `if${l.ifindex}`]));
  const byIndex = addressesByIndex(addrs);
  return raw.map((l): Link => {
    const a = l.attrs;
    const info = a.get(netlink.IFLA.LINKINFO);
    const infoAttrs = info === undefined ? undefined : parseAttrs(info);
    const kind = infoAttrs === undefined ? undefined : strAt(infoAttrs, netlink.IFLA_INFO.KIND);
    const kindData = kindDataOf(kind, infoAttrs?.get(netlink.IFLA_INFO.DATA));
    const iflink = u32At(a, netlink.IFLA.LINK);
    const netnsid = a.get(IFLA_LINK_NETNSID) === undefined ? undefined : readI32(a.get(IFLA_LINK_NETNSID) as Buffer, 0);
    const hasParent = iflink !== undefined && iflink !== 0;
    const txqlen = u32At(a, netlink.IFLA.TXQLEN);
    const master = u32At(a, netlink.IFLA.MASTER);
    const mac = a.get(netlink.IFLA.ADDRESS);
    const operstate = u8At(a, netlink.IFLA.OPERSTATE);
    return {
      name: names.get(l.ifindex) ?? '',
      ifindex: l.ifindex,
      kind,
      kindData,
      slaveKind: infoAttrs === undefined ? undefined : strAt(infoAttrs, IFLA_INFO_SLAVE_KIND),
      linkType: LINK_TYPES[l.type] ?? `[${l.type}]`,
      mac: mac === undefined || mac.length === 0 ? undefined : hwText(mac),
      mtu: u32At(a, netlink.IFLA.MTU) ?? 0,
      // ip prints no txqlen of 0.
      txqlen: txqlen === undefined || txqlen === 0 ? undefined : txqlen,
      flags: flagNames(l.flags),
      operstate: operstate === undefined ? 'UNKNOWN' : (OPERSTATES[operstate] ?? 'UNKNOWN'),
      parent: hasParent
        ? netnsid !== undefined
          ? { name: undefined, ifindex: iflink, otherNetns: true, netnsid }
          : { name: names.get(iflink) ?? `if${iflink}`, ifindex: undefined, otherNetns: false }
        : undefined,
      master: master === undefined ? undefined : (names.get(master) ?? `if${master}`),
      alias: strAt(a, netlink.IFLA.IFALIAS),
      numTxQueues: u32At(a, IFLA_NUM_TX_QUEUES),
      numRxQueues: u32At(a, IFLA_NUM_RX_QUEUES),
      addresses: byIndex.get(l.ifindex) ?? [],
      tun: kind === 'tun' ? tunInfo(kindData) : undefined,
    };
  });
};

/** Routes of every table, as decodeRoutes makes them from `ip -j route show table all`. */
export const decodeNetlinkRoutes = (msgs: readonly Received[], names: ReadonlyMap<number, string>): Route[] =>
  msgs.flatMap((m): Route[] => {
    if (m.type !== netlink.RTM.NEWROUTE || m.payload.length < 12) return [];
    const family = m.payload[0] ?? 0;
    if (family !== AF_INET && family !== AF_INET6) return [];
    const flags = readU32(m.payload, 8);
    if ((flags & RTM_F_CLONED) !== 0) return [];
    const dstLen = m.payload[1] ?? 0;
    const a = parseAttrs(m.payload.subarray(12));
    // Multipath routes have no single device or gateway; tapwire restores none of them.
    if (a.has(RTA_MULTIPATH)) return [];
    const tableId = u32At(a, RTA_TABLE) ?? m.payload[4] ?? 0;
    const protocol = m.payload[5] ?? 0;
    const scope = m.payload[6] ?? 0;
    const type = m.payload[7] ?? 0;
    const dst = a.get(netlink.RTA.DST);
    const gw = a.get(netlink.RTA.GATEWAY);
    const oif = u32At(a, netlink.RTA.OIF);
    const src = a.get(netlink.RTA.PREFSRC);
    const metric = u32At(a, netlink.RTA.PRIORITY);
    const full = family === AF_INET ? 32 : 128;
    const dstText = dstLen === 0 || dst === undefined ? 'default' : dstLen === full ? ipText(family, dst) : `${ipText(family, dst)}/${dstLen}`;
    return [{
      dst: dstText,
      gateway: gw === undefined ? undefined : ipText(family, gw),
      dev: oif === undefined ? undefined : (names.get(oif) ?? `if${oif}`),
      // The scan runs ip with -d: table, type, protocol and scope always named.
      table: TABLES[tableId] ?? String(tableId),
      type: ROUTE_TYPES[type] ?? String(type),
      protocol: PROTOCOLS[protocol] ?? String(protocol),
      scope: SCOPES[scope] ?? String(scope),
      prefsrc: src === undefined ? undefined : ipText(family, src),
      metric,
      family: family === AF_INET ? 'inet' : 'inet6',
    }];
  });


/** Neighbours as `ip -j neigh show` lists them (no NOARP or NONE entries). */
export const decodeNetlinkNeighbours = (msgs: readonly Received[], names: ReadonlyMap<number, string>): Neighbour[] =>
  msgs.flatMap((m): Neighbour[] => {
    if (m.type !== netlink.RTM.NEWNEIGH || m.payload.length < 12) return [];
    const family = m.payload[0] ?? 0;
    if (family !== AF_INET && family !== AF_INET6) return [];
    const index = readI32(m.payload, 4);
    const state = readU16(m.payload, 8);
    if (state === 0 || (state & ~NUD_NOARP & 0xff) === 0) return [];
    const a = parseAttrs(m.payload.subarray(12));
    const dst = a.get(1);
    if (dst === undefined) return [];
    const ll = a.get(2);
    return [{ dst: ipText(family, dst), dev: names.get(index) ?? `if${index}`, lladdr: ll === undefined ? undefined : hwText(ll), state: NUD_NAMES.filter(([bit]) => (state & bit) !== 0).map(([, n]) => n) }];
  });

export const linkNames = (links: readonly Link[]): ReadonlyMap<number, string> => new Map(links.map((l) => [l.ifindex, l.name]));
