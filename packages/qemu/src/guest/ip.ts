// Pure parsers for the address forms the guest contract carries: MACs, IP
// addresses and IP/PREFIX. They accept only what the guest's busybox `ip`
// and `ping` accept too, so a value that passes here cannot derail the guest.

export type IpFamily = 4 | 6;

export interface ParsedIp {
  readonly family: IpFamily;
  /** 4 or 16 bytes, network order. */
  readonly bytes: readonly number[];
  /** Lower case, as written (IPv6 is not re-compressed). */
  readonly text: string;
}

export interface ParsedCidr {
  readonly ip: ParsedIp;
  readonly prefix: number;
  readonly text: string;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** Six colon-separated hex octets, lower-cased; says nothing about unicast. */
export const parseMac = (s: string): string | undefined => {
  const lower = s.toLowerCase();
  return MAC_RE.test(lower) ? lower : undefined;
};

/** The kernel's is_valid_ether_addr: not multicast, not all zero. */
export const isUnicastMac = (mac: string): boolean => (parseInt(mac.slice(0, 2), 16) & 1) === 0 && mac !== '00:00:00:00:00:00';

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_RE = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

const parseIpv4Bytes = (s: string): number[] | undefined => (IPV4_RE.test(s) ? s.split('.').map(Number) : undefined);

const HEXTET_RE = /^[0-9a-f]{1,4}$/;
/** An embedded IPv4 address may only end the whole address (allowV4 on the tail). */
const parseHextets = (part: string, allowV4: boolean): number[] | undefined => {
  if (part === '') return [];
  const groups = part.split(':');
  const out: number[] = [];
  for (const [i, g] of groups.entries()) {
    if (allowV4 && i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIpv4Bytes(g);
      if (v4 === undefined) return undefined;
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else if (HEXTET_RE.test(g)) {
      out.push(parseInt(g, 16));
    } else {
      return undefined;
    }
  }
  return out;
};

/** RFC 4291 text form; no zone (`%eth0`): the guest has no use for one. */
const parseIpv6Bytes = (s: string): number[] | undefined => {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  let hextets: number[];
  if (halves.length === 2) {
    const head = parseHextets(halves[0] ?? '', false);
    const tail = parseHextets(halves[1] ?? '', true);
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    hextets = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseHextets(s, true);
    if (all === undefined || all.length !== 8) return undefined;
    hextets = all;
  }
  return hextets.flatMap((h) => [h >> 8, h & 0xff]);
};

export const parseIp = (s: string): ParsedIp | undefined => {
  const text = s.toLowerCase();
  const v4 = parseIpv4Bytes(text);
  if (v4 !== undefined) return { family: 4, bytes: v4, text };
  if (!text.includes(':')) return undefined;
  const v6 = parseIpv6Bytes(text);
  return v6 === undefined ? undefined : { family: 6, bytes: v6, text };
};

const PREFIX_RE = /^(0|[1-9][0-9]{0,2})$/;
export const maxPrefix = (family: IpFamily): number => (family === 4 ? 32 : 128);

export const parseCidr = (s: string): ParsedCidr | undefined => {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (ip === undefined || !PREFIX_RE.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > maxPrefix(ip.family)) return undefined;
  return { ip, prefix, text: `${ip.text}/${prefix}` };
};

/** True when no bit after the prefix is set (the kernel refuses such a route). */
export const isNetworkAddress = (c: ParsedCidr): boolean =>
  c.ip.bytes.every((b, i) => {
    const bitsKept = Math.min(8, Math.max(0, c.prefix - i * 8));
    const hostMask = 0xff >> bitsKept;
    return (b & hostMask) === 0;
  });

const startsWith = (ip: ParsedIp, prefix: readonly number[], bits: number): boolean =>
  prefix.every((p, i) => {
    const keep = Math.min(8, Math.max(0, bits - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    return ((ip.bytes[i] ?? 0) & mask) === (p & mask);
  });

/** Why an address cannot be a NIC's own address or a ping target, if it cannot. */
export const nonUnicastReason = (ip: ParsedIp): string | undefined => {
  if (ip.bytes.every((b) => b === 0)) return 'the unspecified address';
  if (ip.family === 4) {
    if (startsWith(ip, [127], 8)) return 'a loopback address';
    if (startsWith(ip, [224], 4)) return 'a multicast address';
    if (ip.bytes.every((b) => b === 255)) return 'the broadcast address';
    return undefined;
  }
  if (ip.bytes.slice(0, 15).every((b) => b === 0) && ip.bytes[15] === 1) return 'the loopback address';
  if (startsWith(ip, [0xff], 8)) return 'a multicast address';
  return undefined;
};

/** fe80::/10: usable only together with an interface. */
export const isIpv6LinkLocal = (ip: ParsedIp): boolean => ip.family === 6 && startsWith(ip, [0xfe, 0x80], 10);

/**
 * The text inet_ntop (glibc, and so busybox and iproute2) prints: IPv6
 * lower case, leading zeros dropped, the longest run of two or more zero
 * groups (the first of equals) as `::`, IPv4-mapped and IPv4-compatible
 * addresses with a dotted tail. The guest compares routes as text, so what
 * it is told must read the way its `ip route` prints.
 */
export const formatIp = (ip: ParsedIp): string => {
  if (ip.family === 4) return ip.bytes.join('.');
  const words = Array.from({ length: 8 }, (_, i) => ((ip.bytes[2 * i] ?? 0) << 8) | (ip.bytes[2 * i + 1] ?? 0));
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (const [i, w] of words.entries()) {
    if (w === 0) {
      cur = cur.base < 0 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = cur;
    } else {
      cur = { base: -1, len: 0 };
    }
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  const dotted = `${ip.bytes[12]}.${ip.bytes[13]}.${ip.bytes[14]}.${ip.bytes[15]}`;
  if (best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
    return best.len === 6 ? `::${dotted}` : `::ffff:${dotted}`;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best.base) {
      out += '::';
      i += best.len - 1;
      continue;
    }
    out += `${out === '' || out.endsWith(':') ? '' : ':'}${(words[i] ?? 0).toString(16)}`;
  }
  return out;
};

/** ADDR/PREFIX of the network an address is in: host bits cleared, in inet_ntop form. */
export const networkOf = (c: ParsedCidr): ParsedCidr => {
  const bytes = c.ip.bytes.map((b, i) => {
    const keep = Math.min(8, Math.max(0, c.prefix - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  const ip: ParsedIp = { family: c.ip.family, bytes, text: '' };
  const text = formatIp(ip);
  return { ip: { ...ip, text }, prefix: c.prefix, text: `${text}/${c.prefix}` };
};

/** Same address family, prefix and bytes. */
export const sameCidr = (a: ParsedCidr, b: ParsedCidr): boolean =>
  a.ip.family === b.ip.family && a.prefix === b.prefix && a.ip.bytes.every((x, i) => x === b.ip.bytes[i]);

/** True when ip lies in the network c (same family, equal up to c's prefix). */
export const cidrContains = (c: ParsedCidr, ip: ParsedIp): boolean =>
  c.ip.family === ip.family && sameCidr(networkOf(c), networkOf({ ip, prefix: c.prefix, text: '' }));
