// What a renderer refuses, as tagged values: a NIC (or VM) the target VMM
// cannot express, named by the NIC id, the VMM and what it would need.
import type { NicSpec } from '../nic.js';

export type Vmm = 'libvirt' | 'cloud-hypervisor' | 'firecracker';

export type RenderError =
  /** The VMM has no way to express this backend (e.g. Firecracker and macvtap). */
  | { readonly _tag: 'UnsupportedBackend'; readonly vmm: Vmm; readonly nic: string; readonly backend: string; readonly why: string }
  /** The VMM cannot give this NIC that many queue pairs. */
  | { readonly _tag: 'UnsupportedQueues'; readonly vmm: Vmm; readonly nic: string; readonly queues: number; readonly why: string }
  /** A field that does not have the shape the VMM needs. */
  | { readonly _tag: 'BadField'; readonly vmm: Vmm; readonly subject: string; readonly field: string; readonly value: string; readonly expected: string };

export const describeRenderError = (e: RenderError): string => {
  switch (e._tag) {
    case 'UnsupportedBackend':
      return `${e.vmm} cannot give NIC ${e.nic} a ${e.backend} backend: ${e.why}`;
    case 'UnsupportedQueues':
      return `${e.vmm} cannot give NIC ${e.nic} ${e.queues} queue pairs: ${e.why}`;
    case 'BadField':
      return `${e.vmm}: ${e.subject} ${e.field} ${JSON.stringify(e.value)}: expected ${e.expected}`;
  }
};

export const unsupportedBackend = (vmm: Vmm, nic: NicSpec, why: string): RenderError => ({
  _tag: 'UnsupportedBackend',
  vmm,
  nic: nic.id,
  backend: nic.backend.kind,
  why,
});

export const badField = (vmm: Vmm, subject: string, field: string, value: unknown, expected: string): RenderError => ({
  _tag: 'BadField',
  vmm,
  subject,
  field,
  value: String(value),
  expected,
});
