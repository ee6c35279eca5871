// Checks of single values, each naming the subject and what was expected.
import * as E from 'fp-ts/lib/Either.js';
import { invalid, type ArgsError } from './errors.js';

/** QEMU's own rule for ids (id_wellformed). */
const ID_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
export const checkId = (subject: string, id: unknown): E.Either<ArgsError, string> =>
  typeof id === 'string' && ID_RE.test(id)
    ? E.right(id)
    : E.left(invalid(subject, 'id', id, 'a letter then letters, digits, "_", "." or "-" ([A-Za-z][A-Za-z0-9_.-]*)'));

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** A unicast, non-zero MAC (the kernel's is_valid_ether_addr), rendered lower case. */
export const checkMac = (subject: string, mac: unknown): E.Either<ArgsError, string> => {
  const expected = 'a unicast MAC written as six colon-separated hex octets, e.g. 52:54:00:12:34:56';
  if (typeof mac !== 'string') return E.left(invalid(subject, 'mac', mac, expected));
  const lower = mac.toLowerCase();
  if (!MAC_RE.test(lower)) return E.left(invalid(subject, 'mac', mac, expected));
  if ((parseInt(lower.slice(0, 2), 16) & 1) === 1) {
    return E.left(invalid(subject, 'mac', mac, 'a unicast MAC (the low bit of the first octet clear); this one is multicast'));
  }
  if (lower === '00:00:00:00:00:00') return E.left(invalid(subject, 'mac', mac, 'a non-zero unicast MAC'));
  return E.right(lower);
};

export const checkIntInRange = (
  subject: string,
  field: string,
  value: unknown,
  min: number,
  max: number,
): E.Either<ArgsError, number> =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
    ? E.right(value)
    : E.left(invalid(subject, field, value, `an integer from ${min} to ${max}`));

/** Linux's minimum (IPv4) and the largest MTU a virtio-net device advertises. */
export const checkMtu = (subject: string, mtu: unknown): E.Either<ArgsError, number> =>
  checkIntInRange(subject, 'mtu', mtu, 68, 65535);

/** The kernel caps a tap/macvtap at 256 queues (MAX_TAP_QUEUES, @tapwire/sys's constant); vhost-user gets the same cap. */
export { MAX_QUEUES } from '@tapwire/sys';

/** 0..2 are the child's stdio; an fd number is an int. */
export const checkFd = (subject: string, field: string, fd: unknown): E.Either<ArgsError, number> =>
  checkIntInRange(subject, field, fd, 3, 2 ** 31 - 1);

const hasNul = (s: string): boolean => s.includes('\0');

/**
 * Absolute, so the meaning does not depend on QEMU's working directory. Commas
 * are fine: the renderer escapes them where QEMU parses options.
 */
export const checkPath = (subject: string, field: string, path: unknown): E.Either<ArgsError, string> =>
  typeof path === 'string' && path.startsWith('/') && !hasNul(path)
    ? E.right(path)
    : E.left(invalid(subject, field, path, 'an absolute path without NUL bytes'));

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const SUN_PATH_MAX = 107;
export const checkSocketPath = (subject: string, field: string, path: unknown): E.Either<ArgsError, string> =>
  E.chain((p: string) =>
    Buffer.byteLength(p) <= SUN_PATH_MAX
      ? E.right(p)
      : E.left(invalid(subject, field, p, `a unix socket path of at most ${SUN_PATH_MAX} bytes`)),
  )(checkPath(subject, field, path));

/** The form sysfs uses (/sys/bus/pci/devices/DDDD:BB:DD.F), which is what tapwire discovers. */
const BDF_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/;
export const checkBdf = (subject: string, bdf: unknown): E.Either<ArgsError, string> =>
  typeof bdf === 'string' && BDF_RE.test(bdf.toLowerCase())
    ? E.right(bdf.toLowerCase())
    : E.left(invalid(subject, 'bdf', bdf, 'a PCI address domain:bus:device.function as in sysfs, e.g. 0000:03:00.0'));

export const checkNoNul = (subject: string, field: string, value: unknown): E.Either<ArgsError, string> =>
  typeof value === 'string' && !hasNul(value) ? E.right(value) : E.left(invalid(subject, field, value, 'a string without NUL bytes'));
