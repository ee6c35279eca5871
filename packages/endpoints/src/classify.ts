// Pure, total classification of scanned links into endpoints. Every result
// says why; nothing here throws or does I/O.
import type { Endpoint, Pci } from './endpoint.js';
import type { Link, Snapshot } from './model.js';

export interface ClassifyOptions {
  /** Links the caller hands to the VM as they are (model none): classified `tap`. */
  readonly asTap?: readonly string[];
}

/** An ethtool bus-info that is a PCI address (domain:bus:device.function). */
export const isPciBusInfo = (busInfo: string): boolean => PCI_BDF.test(busInfo);
// Kata counts three ':'-separated parts; a full BDF check also refuses e.g.
// usb-0000:00:14.0-1, which has three parts but is a USB path.
const PCI_BDF = /^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

/** tapwire marks the links it makes with an alias starting with this. */
export const TAPWIRE_ALIAS_PREFIX = 'tapwire:';

type Kinded = Pick<Endpoint, 'kind' | 'reason'> & Partial<Endpoint>;

const byKind = (link: Link, snap: Snapshot): Endpoint | Kinded => {
  const reason = (what: string) => `link kind ${JSON.stringify(link.kind)}: ${what}`;
  switch (link.kind) {
    case undefined:
      return { kind: 'veth', reason: 'no link kind (a generic device): handled like a veth' };
    case 'veth':
      return { kind: 'veth', reason: reason('one end of a veth pair') };
    case 'macvlan':
      return { kind: 'macvlan', reason: reason(`macvlan in ${String(link.kindData['mode'] ?? 'unknown')} mode`) };
    case 'macvtap':
      return { kind: 'macvtap', reason: reason(`macvtap in ${String(link.kindData['mode'] ?? 'unknown')} mode, has its own character device`) };
    case 'ipvlan':
      return { kind: 'ipvlan', reason: reason(`ipvlan in ${String(link.kindData['mode'] ?? 'unknown')} mode`) };
    case 'vlan':
      return { kind: 'vlan', reason: reason(`802.1Q vlan id ${String(link.kindData['id'] ?? '?')}`) };
    case 'tun': {
      const tun = link.tun;
      if (tun?.mode === 'tap') {
        const ids = snap.tunIds[link.name];
        return {
          kind: 'tuntap',
          multiQueue: tun.multiQueue,
          vnetHdr: tun.vnetHdr,
          owner: ids?.owner,
          group: ids?.group,
          reason: reason(`tap mode${tun.multiQueue ? ', multi-queue' : ''}${tun.vnetHdr ? ', vnet_hdr' : ''}`),
        } as Kinded;
      }
      return {
        kind: 'unsupported',
        linkKind: 'tun',
        reason: reason(`${tun?.mode ?? 'unknown'} mode is an L3 device: it carries no Ethernet frames a VM NIC could use`),
      } as Kinded;
    }
    default:
      return { kind: 'unsupported', linkKind: link.kind, reason: reason('tapwire has no endpoint for this kind') } as Kinded;
  }
};

const physical = (link: Link, snap: Snapshot): Kinded | undefined => {
  const drv = snap.drivers[link.name];
  if (drv === undefined || !isPciBusInfo(drv.busInfo)) return undefined;
  const ids = snap.pci[drv.busInfo];
  const pci: Pci = {
    bdf: drv.busInfo,
    driver: drv.driver,
    vendor: ids?.vendor,
    device: ids?.device,
    boundDriver: ids?.boundDriver,
  };
  const nested = drv.driver === 'virtio_net' ? ' (virtio_net: this is a VM\'s own NIC, so a VM in it would be nested)' : '';
  return { kind: 'physical', pci, reason: `ethtool bus-info ${drv.busInfo} is a PCI address, driver ${drv.driver}${nested}` } as Kinded;
};

const vhostUser = (link: Link, snap: Snapshot): Kinded | undefined => {
  const socket = snap.vhostUserSockets[link.name];
  return socket === undefined ? undefined : ({ kind: 'vhost-user', socket, reason: `vhost-user socket ${socket} belongs to one of its addresses` } as Kinded);
};

const skippedFor = (link: Link, e: Kinded, asTap: boolean): string | undefined => {
  if (e.kind === 'loopback') return 'loopback';
  if (link.alias?.startsWith(TAPWIRE_ALIAS_PREFIX) === true) return `made by tapwire (${link.alias})`;
  if (asTap) return undefined;
  // Kata's rule comes first: a link without addresses is not the pod's NIC.
  if (link.addresses.length === 0) return 'no addresses';
  if (e.kind === 'unsupported') return e.reason;
  return undefined;
};

export const classifyLink = (link: Link, snap: Snapshot, opts: ClassifyOptions = {}): Endpoint => {
  const wantTap = opts.asTap?.includes(link.name) === true;
  let e: Kinded;
  if (link.flags.includes('LOOPBACK') || link.linkType === 'loopback') {
    e = { kind: 'loopback', reason: 'loopback device' };
  } else {
    e = physical(link, snap) ?? vhostUser(link, snap) ?? byKind(link, snap);
  }
  if (wantTap) {
    if (e.kind === 'tuntap') {
      e = { ...e, kind: 'tap', reason: `${e.reason}; named by the caller to hand to the VM as is` } as Kinded;
    } else {
      return { ...e, link, skipped: `named as a tap to hand over as is, but it is ${e.kind}, not a tap-mode tun` } as Endpoint;
    }
  }
  return { ...e, link, skipped: skippedFor(link, e, wantTap) } as Endpoint;
};

export const classify = (snap: Snapshot, opts: ClassifyOptions = {}): readonly Endpoint[] =>
  snap.links.map((l) => classifyLink(l, snap, opts));
