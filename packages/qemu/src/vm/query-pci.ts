// QMP query-pci, decoded with io-ts and flattened to the hypervisor-neutral
// PciFunctionSeen of @tapwire/vm: every function on every bus, bridges
// followed, each with its address and the qdev id the VM's argv gave it.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import type { PciFunctionSeen } from '@tapwire/vm';
import type { Qmp } from '../launch/qmp.js';
import { fromQmp, type QemuError } from '../errors.js';

interface PciDevice {
  readonly bus: number;
  readonly slot: number;
  readonly function: number;
  readonly id: { readonly vendor: number; readonly device: number };
  readonly qdev_id?: string | undefined;
  readonly pci_bridge?: { readonly devices?: readonly PciDevice[] | undefined } | undefined;
}

const PciDeviceC: t.Type<PciDevice> = t.recursion('PciDevice', () =>
  t.intersection([
    t.type({ bus: t.number, slot: t.number, function: t.number, id: t.type({ vendor: t.number, device: t.number }) }),
    t.partial({ qdev_id: t.string, pci_bridge: t.partial({ devices: t.readonlyArray(PciDeviceC) }) }),
  ]),
);

export const QueryPciReplyC = t.readonlyArray(t.type({ bus: t.number, devices: t.readonlyArray(PciDeviceC) }), 'query-pci reply');

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** "0000:00:03.0": QEMU has one PCI domain. */
export const pciAddressOf = (d: { bus: number; slot: number; function: number }): string => `0000:${hex(d.bus, 2)}:${hex(d.slot, 2)}.${d.function}`;

const flatten = (devices: readonly PciDevice[]): PciFunctionSeen[] =>
  devices.flatMap((d) => [
    { address: pciAddressOf(d), deviceId: d.qdev_id ?? '', vendor: d.id.vendor, device: d.id.device },
    ...flatten(d.pci_bridge?.devices ?? []),
  ]);

/** Pure: a query-pci return value to the functions it lists. */
export const decodeQueryPci = (reply: unknown): E.Either<QemuError, PciFunctionSeen[]> => {
  const r = QueryPciReplyC.decode(reply);
  if (E.isLeft(r)) return E.left(fromQmp({ _tag: 'QmpProtocol', socket: '', detail: `query-pci: ${PathReporter.report(r).slice(0, 3).join('; ')}` }));
  return E.right(r.right.flatMap((bus) => flatten(bus.devices)));
};

export const queryPciFunctions =
  (qmp: Qmp, timeoutMs = 5_000): TE.TaskEither<QemuError, readonly PciFunctionSeen[]> =>
  async () => {
    const r = await qmp.execute('query-pci', undefined, { timeoutMs });
    return E.isLeft(r) ? E.left(fromQmp(r.left)) : decodeQueryPci(r.right);
  };
