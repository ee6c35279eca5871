// Pure: how many vCPUs a VM's NIC queues want, and how its NICs interrupt the
// guest, for the hypervisor-neutral NicSpecs of @tapwire/vm (describeNics /
// prepareNics make them from a scan and its attachments).
import type { NicSpec } from '@tapwire/vm';
import { interruptsFor, type Accel } from '../args/index.js';

/**
 * More vCPUs than this buy a launch nothing but slower boots (under TCG every
 * vCPU is a host thread competing for the same cores).
 */
export const MAX_VCPUS = 4;

/**
 * virtio_net turns on min(queue pairs, vCPUs) queue pairs, so the VM gets one
 * vCPU per queue of its widest NIC, whatever kind serves the queues.
 */
export const vcpusFor = (nics: readonly NicSpec[]): number => Math.min(Math.max(1, ...nics.map((n) => n.queues)), MAX_VCPUS);

/** Says which NICs the guest will run with fewer queue pairs than they have. */
export const queueNotes = (nics: readonly NicSpec[]): string[] => {
  const vcpus = vcpusFor(nics);
  return nics.flatMap((n) =>
    n.queues > vcpus ? [`${n.id} (${n.link}) has ${n.queues} queues; the guest enables ${vcpus}, one per vCPU (at most ${MAX_VCPUS})`] : [],
  );
};

/** A vhost backend (vhost-user, or vhost-net when `vhost` is on) serves the NIC's rings. */
const hasVhostBackend = (n: NicSpec, vhost: boolean): boolean =>
  n.backend.kind === 'vhost-user' || ((n.backend.kind === 'tap' || n.backend.kind === 'macvtap') && vhost);

/** Tells the user when NICs run without MSI-X under this accelerator, and why. */
export const interruptNote = (nics: readonly NicSpec[], accel: Accel, vhost: boolean): string | undefined => {
  const intx = nics.flatMap((n) => (interruptsFor(accel, hasVhostBackend(n, vhost)) === 'intx' ? [n.id] : []));
  return intx.length === 0
    ? undefined
    : `${intx.join(', ')}: legacy INTx instead of MSI-X (vectors=0) under ${accel.toUpperCase()}: QEMU crashes unmasking MSI-X vectors of a vhost backend without KVM`;
};
