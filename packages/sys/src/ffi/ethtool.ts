// ETHTOOL_GDRVINFO through ioctl(SIOCETHTOOL): what `ethtool -i` prints,
// for many links in one pass and without spawning anything. The ioctl answers
// for the netns the *socket* was created in, so the socket is made inside.
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import type { NetnsHandle } from '../netns.js';
import { errnoOf } from './errno.js';
import { cString, encodeLinkName, ifreqWithPointer, writeU32 } from './ifreq.js';
import { allocBytes, call, closeQuietly, freeBytes } from './libc.js';
import { inNetnsSync } from './netns-sync.js';

/** ethtool driver info of one link; same shape as @tapwire/endpoints' DriverInfo. */
export interface DriverInfo {
  readonly driver: string;
  readonly busInfo: string;
}

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SIOCETHTOOL = 0x8946;
const ETHTOOL_GDRVINFO = 0x3;

// struct ethtool_drvinfo: u32 cmd, char driver[32], version[32],
// fw_version[32], bus_info[32], erom_version[32], reserved2[12], 5 x u32.
const DRVINFO_SIZE = 196;
const DRIVER_OFFSET = 4;
const BUS_INFO_OFFSET = 100;
const FIELD_LEN = 32;

/** Links without ethtool support (lo, some virtual kinds) or gone meanwhile. */
const NO_ANSWER = new Set([errnoOf('EOPNOTSUPP'), errnoOf('ENODEV')]);

export interface DrvinfoReader {
  /** undefined when the link does not answer (no such link, or no ethtool ops). */
  readonly read: (name: Buffer) => E.Either<SysError, DriverInfo | undefined>;
  readonly close: () => void;
}

/** A socket plus native buffer for GDRVINFO queries in the thread's current netns. */
export const openDrvinfoReader = (): E.Either<SysError, DrvinfoReader> =>
  E.map((sock: number): DrvinfoReader => {
    const drv = allocBytes(DRVINFO_SIZE);
    return {
      read: (name) => {
        drv.bytes.fill(0);
        writeU32(drv.bytes, ETHTOOL_GDRVINFO, 0);
        const r = call('ioctl', (c) => `SIOCETHTOOL ETHTOOL_GDRVINFO on ${name.toString('utf8')}: ${c}`, sock, SIOCETHTOOL, ifreqWithPointer(name, drv.address));
        if (E.isLeft(r)) return r.left._tag === 'SyscallFailed' && NO_ANSWER.has(r.left.errno) ? E.right(undefined) : r;
        return E.right({ driver: cString(drv.bytes, DRIVER_OFFSET, FIELD_LEN), busInfo: cString(drv.bytes, BUS_INFO_OFFSET, FIELD_LEN) });
      },
      close: () => {
        freeBytes(drv.ptr);
        closeQuietly(sock);
      },
    };
  })(call('socket', (c) => `AF_INET datagram socket for ethtool: ${c}`, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));

/**
 * Driver and bus-info of each named link in the netns, by name. Links that
 * answer EOPNOTSUPP/ENODEV are absent. Names are validated before anything runs.
 */
export const readDriverInfo = (ns: NetnsHandle, names: readonly string[]): E.Either<SysError, Record<string, DriverInfo>> => {
  const encoded = E.sequenceArray(names.map(encodeLinkName));
  if (E.isLeft(encoded)) return encoded;
  if (names.length === 0) return E.right({});
  return inNetnsSync(ns, () =>
    E.chain((reader: DrvinfoReader): E.Either<SysError, Record<string, DriverInfo>> => {
      try {
        const found: [string, DriverInfo][] = [];
        for (const [i, bytes] of encoded.right.entries()) {
          const info = reader.read(bytes);
          if (E.isLeft(info)) return info;
          if (info.right !== undefined) found.push([names[i] as string, info.right]);
        }
        // fromEntries defines own properties, so a link named __proto__ stays data.
        return E.right(Object.fromEntries(found));
      } finally {
        reader.close();
      }
    })(openDrvinfoReader()),
  );
};
