// Pure: which QEMU NIC each attachable endpoint becomes, and which fds it needs.
import type { Endpoint } from '@tapwire/endpoints';
import type { Attachment } from '@tapwire/netmodel';
import type { FdPositions, Nic } from '../args/index.js';

/** One guest NIC: an attached tap/macvtap, a vhost-user socket, or a PCI function. */
export type VmNic =
  | { readonly kind: 'attached'; readonly endpoint: Endpoint; readonly attachment: Attachment }
  | { readonly kind: 'vhost-user'; readonly endpoint: Extract<Endpoint, { kind: 'vhost-user' }>; readonly queues: number }
  | { readonly kind: 'vfio'; readonly endpoint: Extract<Endpoint, { kind: 'physical' }> };

export const nicId = (i: number): string => `net${i}`;

export const fdNeeds = (nics: readonly VmNic[], vhost: boolean) =>
  nics.map((n) => (n.kind === 'attached' ? { queues: n.attachment.queues, vhost } : { queues: 0, vhost: false }));

export const guestMacOf = (n: VmNic): string =>
  n.kind === 'attached' ? n.attachment.guestMac : (n.endpoint.link.mac ?? '');

export const mtuOf = (n: VmNic): number => (n.kind === 'attached' ? n.attachment.mtu : n.endpoint.link.mtu);

export const qemuNics = (nics: readonly VmNic[], positions: readonly FdPositions[]): Nic[] =>
  nics.map((n, i): Nic => {
    const id = nicId(i);
    switch (n.kind) {
      case 'attached': {
        const p = positions[i] ?? { queueFds: [], vhostFds: [] };
        return { kind: n.attachment.device, id, mac: n.attachment.guestMac, mtu: n.attachment.mtu, queueFds: p.queueFds, vhostFds: p.vhostFds };
      }
      case 'vhost-user':
        return { kind: 'vhost-user', id, mac: n.endpoint.link.mac ?? '', socket: n.endpoint.socket, queues: n.queues };
      case 'vfio':
        return { kind: 'vfio', id, bdf: n.endpoint.pci.bdf, boundDriver: n.endpoint.pci.boundDriver };
    }
  });
