// Netlink wire format, pure: nlmsghdr + a fixed family header + attributes
// (<linux/netlink.h>). Native endianness, 4-byte alignment. Nothing here
// knows about links or qdiscs: requests.ts describes those as data.
import { endianness } from 'node:os';

const LE = endianness() === 'LE';

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** Flags of an error/ack message (NETLINK_CAP_ACK, NETLINK_EXT_ACK). */
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

export const align4 = (n: number): number => (n + 3) & ~3;

export const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);
export const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  if (LE) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
};
export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  if (LE) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
};
export const i32 = (v: number): Buffer => u32(v | 0);
/** Network byte order, whatever the host (tcm_info's protocol, u32 selector masks). */
export const be16 = (v: number): Buffer => Buffer.from([(v >> 8) & 0xff, v & 0xff]);
/** A u16 in network order, read back as a native one (what the kernel's htons() stores). */
export const htons = (v: number): number => (LE ? ((v & 0xff) << 8) | ((v >> 8) & 0xff) : v & 0xffff);
export const strz = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);

export const readU16 = (b: Buffer, off: number): number => (LE ? b.readUInt16LE(off) : b.readUInt16BE(off));
export const readU32 = (b: Buffer, off: number): number => (LE ? b.readUInt32LE(off) : b.readUInt32BE(off));
export const readI32 = (b: Buffer, off: number): number => (LE ? b.readInt32LE(off) : b.readInt32BE(off));

/** One attribute: its header, payload and padding to 4 bytes. */
export const attr = (type: number, payload: Buffer): Buffer => {
  const len = NLA_HDRLEN + payload.length;
  const out = Buffer.alloc(align4(len));
  u16(len).copy(out, 0);
  u16(type).copy(out, 2);
  payload.copy(out, NLA_HDRLEN);
  return out;
};

export const nest = (type: number, attrs: readonly Buffer[]): Buffer => attr(type, Buffer.concat(attrs));

export interface Message {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid?: number;
  /** The family header (ifinfomsg, ifaddrmsg, rtmsg, tcmsg) and attributes, already aligned. */
  readonly body: Buffer;
}

export const encodeMessage = (m: Message): Buffer => {
  const len = NLMSG_HDRLEN + m.body.length;
  const out = Buffer.alloc(align4(len));
  u32(len).copy(out, 0);
  u16(m.type).copy(out, 4);
  u16(m.flags).copy(out, 6);
  u32(m.seq).copy(out, 8);
  u32(m.pid ?? 0).copy(out, 12);
  m.body.copy(out, NLMSG_HDRLEN);
  return out;
};

export interface Received {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly payload: Buffer;
}

/** Splits a datagram into messages; a truncated tail is dropped (the kernel never sends one). */
export const splitMessages = (buf: Buffer): Received[] => {
  const out: Received[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = readU32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({ type: readU16(buf, off + 4), flags: readU16(buf, off + 6), seq: readU32(buf, off + 8), payload: buf.subarray(off + NLMSG_HDRLEN, off + len) });
    off += align4(len);
  }
  return out;
};

/** A region's attributes by type; the last of a repeated type wins. */
export interface Attrs {
  readonly get: (type: number) => Buffer | undefined;
  readonly has: (type: number) => boolean;
}

/**
 * Attributes of a region: type (nested flag cleared) -> payload. Only the
 * offsets are kept; a payload becomes a Buffer when asked for, since a dump
 * carries dozens of attributes per message and a reader wants a few.
 */
export const parseAttrs = (buf: Buffer): Attrs => {
  const at = new Map<number, number>();
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = readU16(buf, off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    at.set(readU16(buf, off + 2) & ~NLA_F_NESTED & 0xffff, off);
    off += align4(len);
  }
  return {
    get: (type) => {
      const o = at.get(type);
      return o === undefined ? undefined : buf.subarray(o + NLA_HDRLEN, o + readU16(buf, o));
    },
    has: (type) => at.has(type),
  };
};

/** Attributes in order, repeated types kept (action lists, multipath). */
export const attrList = (buf: Buffer): [number, Buffer][] => {
  const out: [number, Buffer][] = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = readU16(buf, off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    out.push([readU16(buf, off + 2) & ~NLA_F_NESTED & 0xffff, buf.subarray(off + NLA_HDRLEN, off + len)]);
    off += align4(len);
  }
  return out;
};

export const cstr = (b: Buffer): string => {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
};
