// rtnetlink requests as plain data and their bytes. The data is already
// resolved to what the kernel wants (ifindexes, numbers); which requests a
// plan needs is netmodel's business, not the codec's.
import { AF_INET6, familyOf, ipBytes } from './inet.js';
import { attr, be16, htons, encodeMessage, i32, nest, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, strz, u16, u32, u8 } from './wire.js';

export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18,
  NEWADDR: 20, DELADDR: 21, GETADDR: 22,
  NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26,
  NEWNEIGH: 28, GETNEIGH: 30,
  NEWQDISC: 36, DELQDISC: 37, GETQDISC: 38,
  NEWTFILTER: 44, DELTFILTER: 45, GETTFILTER: 46,
} as const;

export const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, QDISC: 6, MASTER: 10, TXQLEN: 13, OPERSTATE: 16, LINKINFO: 18, IFALIAS: 20, GROUP: 27, EXT_MASK: 29 } as const;
export const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const;
export const RTA = { DST: 1, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, TABLE: 15 } as const;
export const TCA = { KIND: 1, OPTIONS: 2 } as const;
export const IFF_UP = 0x1;
export const IFA_F_NODAD = 0x02;
export const TC_H_INGRESS = 0xfffffff1;
export const INGRESS_HANDLE = 0xffff0000;
export const TC_H_ROOT = 0xffffffff;
/** Link dumps: VF info as `ip` asks for it, and no statistics (nothing reads them; they are most of each message). */
const RTEXT_FILTER_VF = 1;
const RTEXT_FILTER_SKIP_STATS = 8;
/** 1: - given, not left to the kernel, whose pick differs run to run. */
export const NOQUEUE_HANDLE = 0x00010000;
export const ETH_P_ALL = 0x0003;

const ACK = NLM_F_REQUEST | NLM_F_ACK;

/** A device by index, or by name when it is made earlier in the same batch. */
export type Dev = number | string;

export type Request =
  | { readonly _tag: 'SetLink'; readonly dev: Dev; readonly up?: boolean; readonly mtu?: number; readonly txqlen?: number; readonly alias?: string; readonly address?: string; readonly group?: number }
  | { readonly _tag: 'DelLink'; readonly dev: Dev }
  | { readonly _tag: 'DelLinkGroup'; readonly group: number }
  | { readonly _tag: 'NewLink'; readonly name: string; readonly link: number; readonly kind: string; readonly infoData: readonly (readonly [number, number])[] }
  | { readonly _tag: 'Addr'; readonly op: 'add' | 'del'; readonly index: number; readonly local: string; readonly prefixlen: number; readonly broadcast?: string; readonly scope: number; readonly nodad: boolean }
  | {
      readonly _tag: 'Route';
      readonly op: 'replace' | 'del';
      readonly dst: string;
      readonly dstLen: number;
      readonly gateway?: string;
      readonly table: number;
      readonly protocol: number;
      readonly scope: number;
      readonly type: number;
      readonly prefsrc?: string;
      readonly metric?: number;
      readonly oif?: number;
    }
  | { readonly _tag: 'Qdisc'; readonly op: 'add' | 'del'; readonly index: number }
  /** `tc qdisc add dev X root handle 1: noqueue`: the device's root qdisc made a pass-through. */
  | { readonly _tag: 'RootNoqueue'; readonly index: number }
  | { readonly _tag: 'FilterRedirect'; readonly index: number; readonly parent: number; readonly target: number }
  | { readonly _tag: 'FilterDel'; readonly index: number; readonly parent: number }
  | { readonly _tag: 'Dump'; readonly type: number; readonly family: number; readonly index?: number; readonly parent?: number };

export const ifinfomsg = (index: number, flags = 0, change = 0, family = 0): Buffer =>
  Buffer.concat([u8(family), u8(0), u16(0), i32(index), u32(flags), u32(change)]);

const devHeader = (dev: Dev): { header: Buffer; attrs: Buffer[] } =>
  typeof dev === 'number' ? { header: ifinfomsg(dev), attrs: [] } : { header: ifinfomsg(0), attrs: [attr(IFLA.IFNAME, strz(dev))] };

const macBytes = (mac: string): Buffer => Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));

const addrBytes = (ip: string, what: string): Buffer => {
  const b = ipBytes(ip);
  if (b === undefined) throw new RangeError(`${what} ${JSON.stringify(ip)} is no IP address`);
  return b;
};

const tcmsg = (index: number, handle: number, parent: number, info: number): Buffer =>
  Buffer.concat([u8(0), u8(0), u16(0), i32(index), u32(handle), u32(parent), u32(info)]);

/** tc_u32_sel with one all-zero key (match u8 0 0: everything), TC_U32_TERMINAL. */
const matchAll = (): Buffer => Buffer.concat([u8(1), u8(0), u8(1), u8(0), be16(0), u16(0), u16(0), u16(0), u32(0), /* key */ u32(0), u32(0), i32(0), i32(0)]);

/** act_mirred: egress redirect (TCA_EGRESS_REDIR = 1), verdict TC_ACT_STOLEN (4). */
const mirredRedirect = (target: number): Buffer =>
  nest(1, [attr(1, strz('mirred')), attr(2 | 0x8000, attr(2, Buffer.concat([u32(0), u32(0), i32(4), i32(0), i32(0), i32(1), u32(target)])))]);

const body = (r: Request): { type: number; flags: number; body: Buffer } => {
  switch (r._tag) {
    case 'SetLink': {
      const { header, attrs } = devHeader(r.dev);
      if (r.up !== undefined) {
        u32(r.up ? IFF_UP : 0).copy(header, 8);
        u32(IFF_UP).copy(header, 12);
      }
      if (r.alias !== undefined) attrs.push(attr(IFLA.IFALIAS, Buffer.from(r.alias, 'utf8')));
      if (r.mtu !== undefined) attrs.push(attr(IFLA.MTU, u32(r.mtu)));
      if (r.txqlen !== undefined) attrs.push(attr(IFLA.TXQLEN, u32(r.txqlen)));
      if (r.address !== undefined) attrs.push(attr(IFLA.ADDRESS, macBytes(r.address)));
      if (r.group !== undefined) attrs.push(attr(IFLA.GROUP, u32(r.group)));
      return { type: RTM.NEWLINK, flags: ACK, body: Buffer.concat([header, ...attrs]) };
    }
    case 'DelLink': {
      const { header, attrs } = devHeader(r.dev);
      return { type: RTM.DELLINK, flags: ACK, body: Buffer.concat([header, ...attrs]) };
    }
    case 'DelLinkGroup':
      return { type: RTM.DELLINK, flags: ACK, body: Buffer.concat([ifinfomsg(0), attr(IFLA.GROUP, u32(r.group))]) };
    case 'NewLink':
      return {
        type: RTM.NEWLINK,
        flags: ACK | NLM_F_EXCL | NLM_F_CREATE,
        body: Buffer.concat([
          ifinfomsg(0),
          attr(IFLA.LINK, u32(r.link)),
          attr(IFLA.IFNAME, strz(r.name)),
          nest(IFLA.LINKINFO, [attr(IFLA_INFO.KIND, Buffer.from(r.kind, 'utf8')), nest(IFLA_INFO.DATA, r.infoData.map(([t, v]) => attr(t, u32(v))))]),
        ]),
      };
    case 'Addr': {
      const family = familyOf(r.local) ?? 0;
      const local = addrBytes(r.local, 'address');
      const header = Buffer.concat([u8(family), u8(r.prefixlen), u8(r.op === 'add' && r.nodad ? IFA_F_NODAD : 0), u8(r.op === 'add' ? r.scope : 0), u32(r.index)]);
      const attrs = [attr(IFA.LOCAL, local), ...(r.broadcast === undefined || r.op === 'del' ? [] : [attr(IFA.BROADCAST, addrBytes(r.broadcast, 'broadcast'))]), attr(IFA.ADDRESS, local)];
      return { type: r.op === 'add' ? RTM.NEWADDR : RTM.DELADDR, flags: r.op === 'add' ? ACK | NLM_F_EXCL | NLM_F_CREATE : ACK, body: Buffer.concat([header, ...attrs]) };
    }
    case 'Route': {
      const family = familyOf(r.dst) ?? 0;
      const del = r.op === 'del';
      const table = r.table > 255 ? 0 : r.table;
      const header = Buffer.concat([u8(family), u8(r.dstLen), u8(0), u8(0), u8(table), u8(r.protocol), u8(r.scope), u8(r.type), u32(0)]);
      const attrs = [
        attr(RTA.DST, addrBytes(r.dst, 'destination')),
        ...(r.table > 255 ? [attr(RTA.TABLE, u32(r.table))] : []),
        ...(r.gateway === undefined ? [] : [attr(RTA.GATEWAY, addrBytes(r.gateway, 'gateway'))]),
        ...(r.prefsrc === undefined ? [] : [attr(RTA.PREFSRC, addrBytes(r.prefsrc, 'source'))]),
        ...(r.metric === undefined ? [] : [attr(RTA.PRIORITY, u32(r.metric))]),
        ...(r.oif === undefined ? [] : [attr(RTA.OIF, u32(r.oif))]),
      ];
      return { type: del ? RTM.DELROUTE : RTM.NEWROUTE, flags: del ? ACK : ACK | NLM_F_REPLACE | NLM_F_CREATE, body: Buffer.concat([header, ...attrs]) };
    }
    case 'Qdisc':
      return {
        type: r.op === 'add' ? RTM.NEWQDISC : RTM.DELQDISC,
        flags: r.op === 'add' ? ACK | NLM_F_EXCL | NLM_F_CREATE : ACK,
        body: Buffer.concat([tcmsg(r.index, INGRESS_HANDLE, TC_H_INGRESS, 0), attr(TCA.KIND, strz('ingress'))]),
      };
    case 'RootNoqueue':
      return { type: RTM.NEWQDISC, flags: ACK | NLM_F_EXCL | NLM_F_CREATE, body: Buffer.concat([tcmsg(r.index, NOQUEUE_HANDLE, TC_H_ROOT, 0), attr(TCA.KIND, strz('noqueue'))]) };
    case 'FilterRedirect':
      return {
        type: RTM.NEWTFILTER,
        flags: ACK | NLM_F_EXCL | NLM_F_CREATE,
        // tcm_info: priority 0 (the kernel picks one) and the protocol in network order.
        body: Buffer.concat([tcmsg(r.index, 0, r.parent, htons(ETH_P_ALL)), attr(TCA.KIND, strz('u32')), nest(TCA.OPTIONS, [nest(7, [mirredRedirect(r.target)]), attr(5, matchAll())])]),
      };
    case 'FilterDel':
      return { type: RTM.DELTFILTER, flags: ACK, body: tcmsg(r.index, 0, r.parent, 0) };
    case 'Dump': {
      const header =
        r.type === RTM.GETLINK ? Buffer.concat([ifinfomsg(0, 0, 0, r.family), attr(IFLA.EXT_MASK, u32(RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS))])
        : r.type === RTM.GETADDR ? Buffer.concat([u8(r.family), u8(0), u8(0), u8(0), u32(0)])
        : r.type === RTM.GETROUTE ? Buffer.concat([u8(r.family), Buffer.alloc(11)])
        : r.type === RTM.GETNEIGH ? Buffer.concat([u8(r.family), Buffer.alloc(11)])
        : tcmsg(r.index ?? 0, 0, r.parent ?? 0, 0);
      return { type: r.type, flags: NLM_F_REQUEST | NLM_F_DUMP, body: header };
    }
  }
};

/** The request's bytes; throws RangeError on an address that is none (callers validate first). */
export const encodeRequest = (r: Request, seq: number): Buffer => encodeMessage({ ...body(r), seq });

export const isV6 = (ip: string): boolean => familyOf(ip) === AF_INET6;
