// What startVm gives back while the VM runs (issue 10, item 1).
//
// The handle is one mutable object per live VM: its NIC table changes in
// place when a NIC is hot-added or removed (hotAdd/hotRemove take the handle
// and call nics.put/nics.remove), so every holder sees the same VM. Nothing
// else in it changes but through the VM itself (events, console, exit).
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { NicSpec } from '@tapwire/vm';
import type { QemuError } from '../errors.js';
import type { Qmp, QmpEvent } from '../launch/qmp.js';
import type { Feed } from './feed.js';

export interface VmExit {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderr: string;
  /** How we ended it: a QMP quit QEMU obeyed, SIGKILL after the grace, or not us. */
  readonly stoppedBy: 'quit' | 'kill' | undefined;
  /** From spawn to exit. */
  readonly ms: number;
}

export type VmEvent =
  | { readonly kind: 'qmp'; readonly event: QmpEvent }
  /** A console line matching the marker pattern (the guest's TAPWIRE-* reports by default). */
  | { readonly kind: 'console'; readonly marker: string; readonly line: string }
  | { readonly kind: 'exit'; readonly exit: VmExit };

/** The VM's NICs, with the PCI addresses QEMU gave them. */
export interface NicTable {
  readonly list: () => readonly NicSpec[];
  readonly get: (id: string) => NicSpec | undefined;
  /** Adds or replaces (by id): what a hotplug calls once the device is in. */
  readonly put: (nic: NicSpec) => void;
  /** What an unplug calls once DEVICE_DELETED came. */
  readonly remove: (id: string) => void;
  /** Reads query-pci again and sets every NIC's pciAddress from its device id. */
  readonly refresh: () => TE.TaskEither<QemuError, readonly NicSpec[]>;
}

export interface VmHandle {
  readonly pid: number;
  /** QEMU's version from the QMP greeting. */
  readonly version: string;
  /** The QMP connection (ours alone; QEMU takes one client per socket). */
  readonly qmp: Qmp;
  readonly qmpSocket: string;
  /** Serial console output, chunk by chunk. */
  readonly console: Feed<string>;
  readonly events: Feed<VmEvent>;
  readonly nics: NicTable;
  /** QMP quit, then SIGKILL after graceMs (default the start spec's quitGraceMs); resolves once QEMU is gone. */
  readonly stop: (graceMs?: number) => TE.TaskEither<QemuError, VmExit>;
  /** Resolves when QEMU exits, however. */
  readonly exited: Promise<VmExit>;
}
