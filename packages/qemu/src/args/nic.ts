// What the renderer needs to know about each guest NIC, after the pod netns has
// been wired: fds already open (tap/macvtap), a socket (vhost-user), or a host
// PCI function (vfio). Nothing here touches the system.
//
// The renderer takes the hypervisor-neutral description, @tapwire/vm's NicSpec,
// with the fd numbers the QEMU child sees (NicFds from inheritFds): a QemuNic.
// The flat Nic forms below are QEMU's render-ready view of one (qemuNicOf), and
// are still accepted as input for callers written before NicSpec.
import type { NicFds, NicSpec } from '@tapwire/vm';

/**
 * A tap or macvtap whose queue fds are already open in the launcher. The
 * numbers are the fds as the QEMU child will see them (see assignFdPositions).
 * vhostFds is empty (vhost off) or holds one /dev/vhost-net fd per queue fd.
 */
export interface TapNic {
  readonly kind: 'tap' | 'macvtap';
  readonly id: string;
  readonly mac: string;
  readonly mtu: number;
  readonly queueFds: readonly number[];
  readonly vhostFds: readonly number[];
  /** The virtio-net-pci device's id (query-pci's qdev_id, device_del's target); none when unset. */
  readonly deviceId?: string;
  /** The QEMU bus the device goes on (a root port's id, nic-placement.ts); QEMU's own choice on pcie.0 when unset. */
  readonly bus?: string;
}

/** A vhost-user backend listening on `socket`; QEMU connects as the client. */
export interface VhostUserNic {
  readonly kind: 'vhost-user';
  readonly id: string;
  readonly mac: string;
  readonly socket: string;
  readonly queues: number;
  readonly deviceId?: string;
  /** The QEMU bus the device goes on (a root port's id, nic-placement.ts); QEMU's own choice on pcie.0 when unset. */
  readonly bus?: string;
}

/**
 * A host PCI function passed through whole. boundDriver is the driver the host
 * has it bound to now (Pci.boundDriver from @tapwire/endpoints); only
 * vfio-pci can be passed through, and tapwire never rebinds it.
 */
export interface VfioNic {
  readonly kind: 'vfio';
  readonly id: string;
  readonly bdf: string;
  readonly boundDriver: string | undefined;
  readonly deviceId?: string;
  /** The QEMU bus the device goes on (a root port's id, nic-placement.ts); QEMU's own choice on pcie.0 when unset. */
  readonly bus?: string;
}

export type Nic = TapNic | VhostUserNic | VfioNic;

/**
 * One NIC as the QEMU renderer takes it: the neutral description and, for a
 * tap or macvtap, the fd numbers the QEMU child sees (inheritFds' positions,
 * or getfd names' numbers for a hotplug).
 */
export interface QemuNic {
  readonly spec: NicSpec;
  readonly fds?: NicFds;
  /** The QEMU bus the device goes on (a root port's id, nic-placement.ts); QEMU's own choice on pcie.0 when unset. */
  readonly bus?: string;
}

export type NicInput = Nic | QemuNic;

const NO_FDS: NicFds = { queueFds: [], vhostFds: [] };

/** QEMU's flat view of a NicSpec; the device gets the NIC's id (so query-pci names it). */
export const qemuNicOf = ({ spec, fds = NO_FDS, bus }: QemuNic): Nic => {
  const b = spec.backend;
  const on = bus === undefined ? {} : { bus };
  switch (b.kind) {
    case 'tap':
    case 'macvtap':
      return { kind: b.kind, id: spec.id, mac: spec.mac, mtu: spec.mtu, queueFds: fds.queueFds, vhostFds: fds.vhostFds, deviceId: spec.id, ...on };
    case 'vhost-user':
      return { kind: 'vhost-user', id: spec.id, mac: spec.mac, socket: b.socket, queues: spec.queues, deviceId: spec.id, ...on };
    case 'vfio':
      return { kind: 'vfio', id: spec.id, bdf: b.bdf, boundDriver: b.boundDriver, deviceId: spec.id, ...on };
  }
};

export const flatNic = (n: NicInput): Nic => ('spec' in n ? qemuNicOf(n) : n);

/** A vhost-user backend maps guest RAM, so the RAM must be a shareable fd. */
export const nicsNeedSharedMemory = (nics: readonly NicInput[]): boolean => nics.some((n) => flatNic(n).kind === 'vhost-user');
