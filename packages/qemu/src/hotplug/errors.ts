// Every way a hotplug or unplug fails. A failed hotplug has been undone
// (the VM is as before) unless `undo` lists what could not be taken back.
import { describeQmpError, type QmpError } from '../launch/qmp.js';

/** The QMP steps of a hotplug, in order; the fault hook names one of them. */
export const PLUG_STEPS = ['getfd', 'chardev-add', 'netdev_add', 'device_add'] as const;
export type PlugStep = (typeof PLUG_STEPS)[number];

export type HotplugError =
  | { readonly _tag: 'HotplugStep'; readonly nic: string; readonly step: PlugStep; readonly error: QmpError; readonly undo: readonly QmpError[] }
  /** Every reserved root port holds a device already. */
  | { readonly _tag: 'NoFreePort'; readonly nic: string; readonly ports: number }
  | { readonly _tag: 'QueryPci'; readonly error: QmpError }
  /** The guest did not release the device (no DEVICE_DELETED): it stays plugged, and so does its backend. */
  | { readonly _tag: 'UnplugTimeout'; readonly nic: string; readonly device: string; readonly ms: number }
  | { readonly _tag: 'UnplugStep'; readonly nic: string; readonly step: 'device_del' | 'netdev_del' | 'chardev-remove' | 'closefd'; readonly error: QmpError }
  | { readonly _tag: 'BadHotNic'; readonly nic: string; readonly field: string; readonly expected: string };

const undoNote = (undo: readonly QmpError[]): string =>
  undo.length === 0 ? 'undone, the VM is as before' : `and undoing failed too: ${undo.map(describeQmpError).join('; ')}`;

export const describeHotplugError = (e: HotplugError): string => {
  switch (e._tag) {
    case 'HotplugStep':
      return `hotplug of ${e.nic} failed at ${e.step}: ${describeQmpError(e.error)} (${undoNote(e.undo)})`;
    case 'NoFreePort':
      return `hotplug of ${e.nic}: all ${e.ports} hotplug root ports are taken (start the VM with more)`;
    case 'QueryPci':
      return `query-pci: ${describeQmpError(e.error)}`;
    case 'UnplugTimeout':
      return `unplug of ${e.nic}: the guest did not release device ${e.device} within ${e.ms} ms (no DEVICE_DELETED); it stays plugged`;
    case 'UnplugStep':
      return `unplug of ${e.nic} failed at ${e.step}: ${describeQmpError(e.error)}`;
    case 'BadHotNic':
      return `hotplug of ${e.nic}: bad ${e.field}, expected ${e.expected}`;
  }
};
