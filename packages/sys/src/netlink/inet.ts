// IP address text <-> bytes for netlink attributes, strict: a bad address is
// undefined, never a guess.
import { isIPv4, isIPv6 } from 'node:net';

export const AF_INET = 2;
export const AF_INET6 = 10;

export const familyOf = (ip: string): number | undefined => (isIPv4(ip) ? AF_INET : isIPv6(ip) ? AF_INET6 : undefined);

const v4Bytes = (ip: string): Buffer => Buffer.from(ip.split('.').map(Number));

const v6Bytes = (ip: string): Buffer => {
  // An embedded IPv4 tail (::ffff:10.1.2.3) becomes its two hex groups first.
  const lastColon = ip.lastIndexOf(':');
  const v4 = ip.slice(lastColon + 1);
  const text = v4.includes('.')
    ? `${ip.slice(0, lastColon + 1)}${v4Bytes(v4).readUInt16BE(0).toString(16)}:${v4Bytes(v4).readUInt16BE(2).toString(16)}`
    : ip;
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const words = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = words(head);
  const r = rest === undefined ? [] : words(rest);
  const groups = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  groups.slice(0, 8).forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
};

/** The address's bytes in network order, or undefined when it is no IP address. */
export const ipBytes = (ip: string): Buffer | undefined => (isIPv4(ip) ? v4Bytes(ip) : isIPv6(ip) ? v6Bytes(ip) : undefined);

export const ipText = (family: number, b: Buffer): string => {
  if (family === AF_INET) return `${b[0] ?? 0}.${b[1] ?? 0}.${b[2] ?? 0}.${b[3] ?? 0}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  // RFC 5952: the longest run (>= 2) of zero groups becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (b.subarray(0, 10).every((x) => x === 0) && b.readUInt16BE(10) === 0xffff) return `::ffff:${[...b.subarray(12, 16)].join('.')}`;
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
};
