// Small io-ts building blocks shared by the config and result codecs.
import { isIP } from 'node:net';
import * as t from 'io-ts';

/** A string accepted by `ok`, named for error messages. */
export const stringWhere = (name: string, ok: (s: string) => boolean): t.Type<string, string, unknown> =>
  new t.Type<string, string, unknown>(name, (u): u is string => typeof u === 'string' && ok(u), (u, c) => (typeof u === 'string' && ok(u) ? t.success(u) : t.failure(u, c)), t.identity);

export const isCidr = (s: string): boolean => {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return false;
  const family = isIP(s.slice(0, slash));
  const len = s.slice(slash + 1);
  return family !== 0 && /^[0-9]{1,3}$/.test(len) && Number(len) <= (family === 4 ? 32 : 128);
};

export const Cidr = stringWhere('an IP address with a prefix length (CIDR)', isCidr);
export const Ip = stringWhere('an IP address', (s) => isIP(s) !== 0);

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
/** A unicast Ethernet MAC (the kernel refuses multicast ones on a link). */
export const isUnicastMac = (s: string): boolean => MAC_RE.test(s) && (parseInt(s.slice(0, 2), 16) & 1) === 0;
export const UnicastMac = stringWhere('a unicast MAC address like 02:00:00:00:00:01', isUnicastMac);

export const NonNegativeInt = new t.Type<number, number, unknown>(
  'a non-negative integer',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 0 && u <= 0xffffffff ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/** An MTU ip accepts: 68 (IPv4 minimum) to 65535. */
export const Mtu = new t.Type<number, number, unknown>(
  'an MTU from 68 to 65535',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 68 && u <= 65535,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 68 && u <= 65535 ? t.success(u) : t.failure(u, c)),
  t.identity,
);
