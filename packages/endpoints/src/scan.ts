// The effect shell of endpoints: links, addresses, routes and neighbours from
// four rtnetlink dumps on one socket inside the netns (no process; or, with
// source 'iproute2', one `ip -batch` process); driver info in-process (ethtool ioctl inside the netns);
// tun owner/group from the netns's sysfs (in-process); PCI ids and vhost-user
// sockets from the filesystem. No spawn per link.
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { inNetnsSync, isSocketPath, netlink, readDriverInfo, readPciIds, readTunIds, runBatchJson, type NetnsHandle, type SysError } from '@tapwire/sys';
import { decodeNetlinkLinks, decodeNetlinkNeighbours, decodeNetlinkRoutes, linkNames } from './decode-netlink.js';
import { isPciBusInfo } from './classify.js';
import { decodeScanOutput, SCAN_COMMANDS, type DecodeError, type ScanDocs } from './decode-ip.js';
import type { DriverInfo, Link, PciIds, Snapshot } from './model.js';

/** @tapwire/sys failed (netns, netlink, ip, ethtool, sysfs): wrapped whole, described by describeSysError. */
export type ScanError = { readonly _tag: 'Sys'; readonly error: SysError } | DecodeError;

const fromSys = (error: SysError): ScanError => ({ _tag: 'Sys', error });

export interface ScanOptions {
  /** Who reads links, addresses, routes and neighbours: rtnetlink dumps (default) or `ip -j -d -batch` (the oracle). */
  readonly source?: 'netlink' | 'iproute2';
  /** false: links, routes and neighbours only (drivers, tun ids, PCI ids, vhost-user sockets left empty). */
  readonly deviceInfo?: boolean;
  /** Where vhost-user sockets live: <dir>/vhostuser_<address>/vhu.sock. Default /tmp. */
  readonly vhostUserDir?: string;
}

export const DEFAULT_VHOST_USER_DIR = '/tmp';


/** The socket a vhost-user backend made for one of the link's addresses, if any. */
export const vhostUserSocketFor = (link: Link, dir: string): string | undefined =>
  link.addresses.map((a) => join(dir, `vhostuser_${a.local}`, 'vhu.sock')).find(isSocketPath);

const pciOf = (drivers: Readonly<Record<string, DriverInfo>>): Record<string, PciIds> =>
  Object.fromEntries(
    Object.values(drivers)
      .filter((d) => isPciBusInfo(d.busInfo))
      .map((d) => [d.busInfo, readPciIds(d.busInfo)] as const),
  );

const { RTM } = netlink;

/** Links (with addresses), routes and neighbours from four dumps in one visit to the netns; no process. */
export const readNetlinkDocs = (ns: NetnsHandle): E.Either<SysError, ScanDocs> =>
  inNetnsSync(ns, () => {
    const sock = netlink.openNetlinkSocket();
    if (E.isLeft(sock)) return sock;
    try {
      const dump = (type: number) => sock.right.dump({ _tag: 'Dump', type, family: 0 });
      const links = dump(RTM.GETLINK);
      if (E.isLeft(links)) return links;
      const addrs = dump(RTM.GETADDR);
      if (E.isLeft(addrs)) return addrs;
      const routes = dump(RTM.GETROUTE);
      if (E.isLeft(routes)) return routes;
      const neighs = dump(RTM.GETNEIGH);
      if (E.isLeft(neighs)) return neighs;
      const decoded = decodeNetlinkLinks(links.right, addrs.right);
      const names = linkNames(decoded);
      return E.right({ links: decoded, routes: decodeNetlinkRoutes(routes.right, names), neighbours: decodeNetlinkNeighbours(neighs.right, names) });
    } finally {
      sock.right.close();
    }
  });

const readDocs = (ns: NetnsHandle, source: ScanOptions['source']): TE.TaskEither<ScanError, ScanDocs> =>
  source === 'iproute2'
    ? pipe(runBatchJson(ns, SCAN_COMMANDS), TE.mapLeft(fromSys), TE.chainEitherKW(decodeScanOutput))
    : async () => pipe(readNetlinkDocs(ns), E.mapLeft(fromSys));

export const scan = (ns: NetnsHandle, opts: ScanOptions = {}): TE.TaskEither<ScanError, Snapshot> =>
  pipe(
    readDocs(ns, opts.source),
    TE.chainEitherKW(({ links, routes, neighbours }: ScanDocs) =>
      opts.deviceInfo === false
        ? E.right<ScanError, Snapshot>({ links, routes, neighbours, drivers: {}, pci: {}, vhostUserSockets: {}, tunIds: {} })
        : pipe(
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
        E.mapLeft(fromSys),
      ),
    ),
  );
