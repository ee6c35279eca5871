// The hypervisor-neutral description of one guest NIC: what a VMM renderer
// (QEMU argv, libvirt XML, cloud-hypervisor/firecracker JSON) needs to know,
// and nothing about how that VMM spells it. Codecs are the source of truth:
// the types derive from them, so a runtime can persist a NicSpec (state.ts)
// and decode it back after a restart.
//
// A NicSpec never holds an open fd: fds belong to one process and die with it.
// The fds opened for a NIC travel apart, as NicFds (prepare.ts), and only for
// VMMs that take fds; a VMM that opens devices by name (libvirt's
// <target dev=>, firecracker's host_dev_name) ignores them.
import * as t from 'io-ts';

/**
 * A tap in the pod netns (model tcfilter/none on a tap). The VMM, or we on its
 * behalf, opens /dev/net/tun with TUNSETIFF on `device` inside the netns.
 * multiQueue: IFF_MULTI_QUEUE (a queue per fd); vnetHdr: IFF_VNET_HDR (virtio-net
 * wants it: offloads pass through).
 */
export const TapBackendC = t.readonly(
  t.type({
    kind: t.literal('tap'),
    device: t.string,
    ifindex: t.number,
    multiQueue: t.boolean,
    vnetHdr: t.boolean,
  }),
  'TapBackend',
);

/**
 * A macvtap in the pod netns. Its char device is opened by us, through the
 * netns's own sysfs (never /dev/tap<ifindex> of the host: see @tapwire/sys
 * macvtap.ts), so a VMM that opens by name cannot take one from another netns.
 */
export const MacvtapBackendC = t.readonly(
  t.type({
    kind: t.literal('macvtap'),
    device: t.string,
    ifindex: t.number,
  }),
  'MacvtapBackend',
);

/** A vhost-user backend listening on `socket`; the VMM connects as the client. */
export const VhostUserBackendC = t.readonly(
  t.type({
    kind: t.literal('vhost-user'),
    socket: t.string,
  }),
  'VhostUserBackend',
);

/**
 * A host PCI function passed through whole. boundDriver is the host driver it
 * is bound to now (only vfio-pci can be passed through; tapwire never rebinds).
 */
export const VfioBackendC = t.readonly(
  t.type({
    kind: t.literal('vfio'),
    bdf: t.string,
    boundDriver: t.union([t.string, t.undefined]),
  }),
  'VfioBackend',
);

export const NicBackendC = t.union([TapBackendC, MacvtapBackendC, VhostUserBackendC, VfioBackendC], 'NicBackend');

export const NicSpecC = t.readonly(
  t.intersection([
    t.type({
      /** Unique in the VM; the VMM's netdev/device id (QEMU) or interface name (libvirt alias). */
      id: t.string,
      /** The pod link this NIC stands for (its name in the netns). */
      link: t.string,
      /** The guest's MAC: the pod link's original MAC. '' for vfio: the function keeps its own. */
      mac: t.string,
      mtu: t.number,
      /** Queue pairs offered to the guest (vfio: 1, the function's own business). */
      queues: t.number,
      backend: NicBackendC,
    }),
    t.partial({
      /**
       * The guest PCI address (e.g. "0000:00:03.0"), once known: assigned by the
       * VMM layer (QEMU: read back with query-pci), never by the description.
       */
      pciAddress: t.string,
    }),
  ]),
  'NicSpec',
);

export type TapBackend = t.TypeOf<typeof TapBackendC>;
export type MacvtapBackend = t.TypeOf<typeof MacvtapBackendC>;
export type VhostUserBackend = t.TypeOf<typeof VhostUserBackendC>;
export type VfioBackend = t.TypeOf<typeof VfioBackendC>;
export type NicBackend = t.TypeOf<typeof NicBackendC>;
export type NicSpec = t.TypeOf<typeof NicSpecC>;
export type NicKind = NicBackend['kind'];

/**
 * The fds opened for one NIC, in this process: one queue fd per queue (tap,
 * macvtap) and, with vhost-net, one /dev/vhost-net fd per queue fd. Both empty
 * for vhost-user and vfio. Absent altogether when the VMM opens by name.
 */
export interface NicFds {
  readonly queueFds: readonly number[];
  /** Empty when vhost-net is off, else one per queue fd. */
  readonly vhostFds: readonly number[];
}

/** The NIC's fds are opened by us and passed to the VMM (tap, macvtap). */
export const takesFds = (nic: NicSpec): boolean => nic.backend.kind === 'tap' || nic.backend.kind === 'macvtap';

/** A vhost backend maps guest RAM, so the RAM must be a shareable fd. */
export const nicsNeedSharedMemory = (nics: readonly NicSpec[]): boolean => nics.some((n) => n.backend.kind === 'vhost-user');

/** The VMM-side id of the i-th NIC of a VM, when the caller names none. */
export const nicId = (i: number): string => `net${i}`;
