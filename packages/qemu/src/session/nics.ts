// Pure: which QEMU NIC each attachable endpoint becomes, which fds it needs,
// how many vCPUs its queues want, and how it interrupts the guest.
import type { Endpoint } from '@tapwire/endpoints';
import type { Attachment } from '@tapwire/netmodel';
import { interruptsFor, type Accel, type FdPositions, type Nic } from '../args/index.js';

/** One guest NIC: an attached tap/macvtap, a vhost-user socket, or a PCI function. */
export type VmNic =
  | { readonly kind: 'attached'; readonly endpoint: Endpoint; readonly attachment: Attachment }
  | { readonly kind: 'vhost-user'; readonly endpoint: Extract<Endpoint, { kind: 'vhost-user' }>; readonly queues: number }
  | { readonly kind: 'vfio'; readonly endpoint: Extract<Endpoint, { kind: 'physical' }> };

export const nicId = (i: number): string => `net${i}`;

/** The VM's NICs in endpoint order: skipped endpoints and unattached links get none. */
export const vmNicsOf = (endpoints: readonly Endpoint[], attachments: readonly Attachment[], queues: number): VmNic[] =>
  endpoints.flatMap((e): VmNic[] => {
    if (e.skipped !== undefined) return [];
    if (e.kind === 'physical') return [{ kind: 'vfio', endpoint: e }];
    if (e.kind === 'vhost-user') return [{ kind: 'vhost-user', endpoint: e, queues }];
    const a = attachments.find((x) => x.link === e.link.name);
    return a === undefined ? [] : [{ kind: 'attached', endpoint: e, attachment: a }];
  });

/** Queue pairs the NIC offers the guest (a PCI function: its own business, counted as one). */
export const queuesOf = (n: VmNic): number => (n.kind === 'attached' ? n.attachment.queues : n.kind === 'vhost-user' ? n.queues : 1);

/**
 * More vCPUs than this buy a launch nothing but slower boots (under TCG every
 * vCPU is a host thread competing for the same cores).
 */
export const MAX_VCPUS = 4;

/**
 * virtio_net turns on min(queue pairs, vCPUs) queue pairs, so the VM gets one
 * vCPU per queue of its widest NIC, whatever kind serves the queues.
 */
export const vcpusFor = (nics: readonly VmNic[]): number => Math.min(Math.max(1, ...nics.map(queuesOf)), MAX_VCPUS);

/** Says which NICs the guest will run with fewer queue pairs than they have. */
export const queueNotes = (nics: readonly VmNic[]): string[] => {
  const vcpus = vcpusFor(nics);
  return nics.flatMap((n, i) => {
    const q = queuesOf(n);
    return q > vcpus ? [`${nicId(i)} (${n.endpoint.link.name}) has ${q} queues; the guest enables ${vcpus}, one per vCPU (at most ${MAX_VCPUS})`] : [];
  });
};

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

/** A vhost backend (vhost-user, or vhost-net when `vhost` is on) serves the NIC's rings. */
const hasVhostBackend = (n: VmNic, vhost: boolean): boolean => n.kind === 'vhost-user' || (n.kind === 'attached' && vhost);

/** Tells the user when NICs run without MSI-X under this accelerator, and why. */
export const interruptNote = (nics: readonly VmNic[], accel: Accel, vhost: boolean): string | undefined => {
  const intx = nics.flatMap((n, i) => (interruptsFor(accel, hasVhostBackend(n, vhost)) === 'intx' ? [nicId(i)] : []));
  return intx.length === 0
    ? undefined
    : `${intx.join(', ')}: legacy INTx instead of MSI-X (vectors=0) under ${accel.toUpperCase()}: QEMU crashes unmasking MSI-X vectors of a vhost backend without KVM`;
};
