// The effect shell of endpoints: one `ip -batch` process for links, addresses,
// routes and neighbours; driver info in-process (ethtool ioctl inside the netns);
// tun owner/group from the netns's sysfs (in-process); PCI ids and vhost-user
// sockets from the filesystem. No spawn per link.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { readDriverInfo, readPciIds, readTunIds, runBatchJson, type NetnsHandle, type SysError } from '@tapwire/sys';
import { isPciBusInfo } from './classify.js';
import { decodeScanOutput, SCAN_COMMANDS, type DecodeError, type ScanDocs } from './decode-ip.js';
import type { DriverInfo, Link, PciIds, Snapshot } from './model.js';

export type ScanError = SysError | DecodeError;

export interface ScanOptions {
  /** Where vhost-user sockets live: <dir>/vhostuser_<address>/vhu.sock. Default /tmp. */
  readonly vhostUserDir?: string;
}

export const DEFAULT_VHOST_USER_DIR = '/tmp';

const isSocket = (path: string): boolean => {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
};

/** The socket a vhost-user backend made for one of the link's addresses, if any. */
export const vhostUserSocketFor = (link: Link, dir: string): string | undefined =>
  link.addresses.map((a) => join(dir, `vhostuser_${a.local}`, 'vhu.sock')).find(isSocket);

const pciOf = (drivers: Readonly<Record<string, DriverInfo>>): Record<string, PciIds> =>
  Object.fromEntries(
    Object.values(drivers)
      .filter((d) => isPciBusInfo(d.busInfo))
      .map((d) => [d.busInfo, readPciIds(d.busInfo)] as const),
  );

export const scan = (ns: NetnsHandle, opts: ScanOptions = {}): TE.TaskEither<ScanError, Snapshot> =>
  pipe(
    runBatchJson(ns, SCAN_COMMANDS),
    TE.chainEitherKW(decodeScanOutput),
    TE.chainEitherKW(({ links, routes, neighbours }: ScanDocs) =>
      pipe(
        E.Do,
        E.apS('drivers', readDriverInfo(ns, links.map((l) => l.name))),
        E.apS('tunIds', readTunIds(ns, links.filter((l) => l.kind === 'tun').map((l) => l.name))),
        E.map(({ drivers, tunIds }): Snapshot => {
          const dir = opts.vhostUserDir ?? DEFAULT_VHOST_USER_DIR;
          const vhostUserSockets: Record<string, string> = {};
          for (const l of links) {
            const s = vhostUserSocketFor(l, dir);
            if (s !== undefined) vhostUserSockets[l.name] = s;
          }
          return { links, routes, neighbours, drivers, pci: pciOf(drivers), vhostUserSockets, tunIds };
        }),
      ),
    ),
  );
