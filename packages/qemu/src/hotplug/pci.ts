// What query-pci says about the reserved root ports: which are free, and where
// a plugged device landed. Asked of QEMU each time rather than remembered, so
// a runtime that restarts (or a second process) sees the truth.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import type { Qmp, QmpError } from '../launch/qmp.js';

interface PciDevice {
  bus: number;
  slot: number;
  function: number;
  qdev_id: string;
  pci_bridge?: { bus: { number: number }; devices?: PciDevice[] | undefined } | undefined;
}
const PciDeviceC: t.Type<PciDevice> = t.recursion('PciDevice', () =>
  t.intersection([
    t.type({ bus: t.number, slot: t.number, function: t.number, qdev_id: t.string }),
    t.partial({ pci_bridge: t.intersection([t.type({ bus: t.type({ number: t.number }) }), t.partial({ devices: t.array(PciDeviceC) })]) }),
  ]),
);
const QueryPciC = t.array(t.type({ bus: t.number, devices: t.array(PciDeviceC) }), 'query-pci reply');

const HOTPLUG_PORT = /^hp(\d+)$/;

export interface PortView {
  readonly id: string;
  readonly index: number;
  /** Device ids behind the port. */
  readonly devices: readonly string[];
  /** The secondary bus number the guest gave the port (0 before it enumerated it). */
  readonly secondaryBus: number;
}

/** The PCI address of a device as the guest sees it: bus, slot, function. */
export interface PciAddress {
  readonly bus: number;
  readonly slot: number;
  readonly function: number;
}

export interface PciView {
  readonly ports: readonly PortView[];
  readonly addressOf: (qdevId: string) => PciAddress | undefined;
}

const flatten = (devices: readonly PciDevice[]): PciDevice[] =>
  devices.flatMap((d) => [d, ...flatten(d.pci_bridge?.devices ?? [])]);

/** QMP query-pci, read as the hotplug root ports and where each device sits. */
export const readPci = (qmp: Qmp, timeoutMs: number): TE.TaskEither<QmpError, PciView> => () => queryPci(qmp, timeoutMs);

const queryPci = async (qmp: Qmp, timeoutMs: number): Promise<E.Either<QmpError, PciView>> => {
  const r = await qmp.execute('query-pci', undefined, { timeoutMs });
  if (E.isLeft(r)) return r;
  const d = QueryPciC.decode(r.right);
  if (E.isLeft(d)) return E.left({ _tag: 'QmpProtocol', socket: qmp.socket, detail: 'the query-pci reply is not a list of buses with devices' });
  const all = flatten(d.right.flatMap((b) => b.devices));
  const ports = all.flatMap((p): PortView[] => {
    const m = HOTPLUG_PORT.exec(p.qdev_id);
    if (m === null || p.pci_bridge === undefined) return [];
    return [{ id: p.qdev_id, index: Number(m[1]), devices: (p.pci_bridge.devices ?? []).map((x) => x.qdev_id), secondaryBus: p.pci_bridge.bus.number }];
  });
  ports.sort((a, b) => a.index - b.index);
  return E.right({
    ports,
    addressOf: (id) => {
      const found = all.find((x) => x.qdev_id === id);
      return found === undefined ? undefined : { bus: found.bus, slot: found.slot, function: found.function };
    },
  });
};

/** The lowest-numbered reserved root port with nothing behind it. */
export const freePort = (v: PciView): string | undefined => v.ports.find((p) => p.devices.length === 0)?.id;

export const formatPciAddress = (a: PciAddress): string =>
  `0000:${a.bus.toString(16).padStart(2, '0')}:${a.slot.toString(16).padStart(2, '0')}.${a.function.toString(16)}`;
