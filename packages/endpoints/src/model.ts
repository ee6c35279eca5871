// The decoded, tool-independent view of a netns that classification works on.

export interface Address {
  readonly family: 'inet' | 'inet6';
  readonly local: string;
  readonly prefixlen: number;
  readonly scope: string;
  readonly broadcast?: string;
}

/**
 * What `ip -d` says a tun device is (linkinfo info_data of kind "tun"). Not
 * its owner and group: ip prints those as names when passwd/group have one
 * ("nobody"); the scan reads the numbers from sysfs (Snapshot.tunIds).
 */
export interface TunInfo {
  readonly mode: 'tap' | 'tun' | 'unknown';
  readonly multiQueue: boolean;
  readonly vnetHdr: boolean;
  readonly persist: boolean;
  readonly pi: boolean;
}

export interface Link {
  readonly name: string;
  readonly ifindex: number;
  /** iproute2 linkinfo.info_kind: veth, macvlan, macvtap, tun, bridge...; undefined for a plain NIC or lo. */
  readonly kind: string | undefined;
  /** linkinfo.info_data as decoded JSON (kind-specific). */
  readonly kindData: Readonly<Record<string, unknown>>;
  /** linkinfo.info_slave_kind when the link is enslaved (bridge port, bond...). */
  readonly slaveKind: string | undefined;
  readonly linkType: string;
  readonly mac: string | undefined;
  readonly mtu: number;
  readonly txqlen: number | undefined;
  readonly flags: readonly string[];
  readonly operstate: string;
  /**
   * Parent (lower) link: `link` by name when in this netns, `link_index` otherwise;
   * netnsid (this netns's id for the parent's netns) when it lives in another one.
   */
  readonly parent:
    | { readonly name: string | undefined; readonly ifindex: number | undefined; readonly otherNetns: boolean; readonly netnsid?: number }
    | undefined;
  readonly master: string | undefined;
  readonly alias: string | undefined;
  readonly numTxQueues: number | undefined;
  readonly numRxQueues: number | undefined;
  readonly addresses: readonly Address[];
  readonly tun: TunInfo | undefined;
}

export interface Route {
  readonly dst: string;
  readonly gateway: string | undefined;
  readonly dev: string | undefined;
  readonly table: string | undefined;
  readonly type: string | undefined;
  readonly protocol: string | undefined;
  readonly scope: string | undefined;
  readonly prefsrc: string | undefined;
  readonly metric: number | undefined;
  readonly family: 'inet' | 'inet6';
}

export interface Neighbour {
  readonly dst: string;
  readonly dev: string;
  readonly lladdr: string | undefined;
  readonly state: readonly string[];
}

// Driver and PCI facts come from the syscall layer; one definition, re-exported here.
import type { DriverInfo, PciIds, TunIds } from '@tapwire/sys';
export type { DriverInfo, PciIds, TunIds };

/** Everything one scan of a netns gathered. */
export interface Snapshot {
  readonly links: readonly Link[];
  readonly routes: readonly Route[];
  readonly neighbours: readonly Neighbour[];
  /** By link name; absent when the link answers no ethtool query. */
  readonly drivers: Readonly<Record<string, DriverInfo>>;
  /** By PCI BDF. */
  readonly pci: Readonly<Record<string, PciIds>>;
  /** vhost-user sockets found, by link name. */
  readonly vhostUserSockets: Readonly<Record<string, string>>;
  /** Owner and group of every tun/tap, by link name, as numbers (from the netns's sysfs). */
  readonly tunIds: Readonly<Record<string, TunIds>>;
}
