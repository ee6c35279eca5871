// What the renderer needs to know about each guest NIC, after the pod netns has
// been wired: fds already open (tap/macvtap), a socket (vhost-user), or a host
// PCI function (vfio). Nothing here touches the system.

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
}

/** A vhost-user backend listening on `socket`; QEMU connects as the client. */
export interface VhostUserNic {
  readonly kind: 'vhost-user';
  readonly id: string;
  readonly mac: string;
  readonly socket: string;
  readonly queues: number;
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
}

export type Nic = TapNic | VhostUserNic | VfioNic;

/** A vhost-user backend maps guest RAM, so the RAM must be a shareable fd. */
export const nicsNeedSharedMemory = (nics: readonly Nic[]): boolean => nics.some((n) => n.kind === 'vhost-user');
