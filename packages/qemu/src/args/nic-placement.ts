// Pure: which QEMU bus each cold-plugged NIC goes on. q35's root bus pcie.0
// has 30 device slots (0 is the host bridge, 0x1f the ICH9 LPC/SATA/SMBus);
// the machine's own devices (the control channel's virtio-serial, the slots
// of the hotplug root ports) take some. NICs that fit stay where QEMU puts
// them by itself (no bus=, the argv as before); past that, the last NICs go
// one each on pcie-root-ports of their own, 8 ports to a slot
// (multifunction), in the slots right after the hotplug ports.
//
// This is QEMU topology (bus ids), not the guest's PCI addresses: those are
// numbered by the firmware and read back with query-pci (NicSpec.pciAddress).
import * as E from 'fp-ts/lib/Either.js';
import { invalid, type ArgsError } from './errors.js';

/** pcie.0's slots 1..0x1e. */
export const ROOT_BUS_SLOTS = 0x1e;
/** Root ports sit 8 to a slot from PORT_FIRST_SLOT to PORT_LAST_SLOT (hotplug ports first). */
export const PORT_FIRST_SLOT = 0x10;
export const PORT_LAST_SLOT = 0x1e;
export const PORTS_PER_SLOT = 8;

/** The id of the i-th root port that carries a cold-plugged NIC: the NIC's bus=. */
export const nicPortId = (i: number): string => `nicp${i}`;

export interface MachineSlots {
  /** Root ports reserved for hotplug (render-machine.ts hotplugPorts). */
  readonly hotplugPorts?: number;
  /** The control channel's virtio-serial-pci takes a root bus slot. */
  readonly controlSocket?: string;
}

export interface NicPlacement {
  /** Root ports to render for NICs (ids nicPortId(0..n-1)). */
  readonly nicPorts: number;
  /** Per NIC, in NIC order: the bus it goes on, undefined for QEMU's own choice on pcie.0. */
  readonly buses: readonly (string | undefined)[];
}

const slotsFor = (ports: number): number => Math.ceil(ports / PORTS_PER_SLOT);

/** The first slot of the NIC root ports: after the hotplug ports' slots. */
export const nicPortFirstSlot = (hotplugPorts: number): number => PORT_FIRST_SLOT + slotsFor(hotplugPorts);

export const placeNics = (nicCount: number, m: MachineSlots): E.Either<ArgsError, NicPlacement> => {
  const hotplug = m.hotplugPorts ?? 0;
  const hotplugSlots = slotsFor(hotplug);
  const machineSlots = hotplugSlots + (m.controlSocket === undefined ? 0 : 1);
  const free = ROOT_BUS_SLOTS - machineSlots;
  if (nicCount <= free) return E.right({ nicPorts: 0, buses: Array.from({ length: nicCount }, () => undefined) });
  const portSlotsLeft = PORT_LAST_SLOT - PORT_FIRST_SLOT + 1 - hotplugSlots;
  // The fewest NICs moved to ports such that the rest, and the ports' slots, fit.
  for (let onPorts = 1; onPorts <= nicCount; onPorts++) {
    const portSlots = slotsFor(onPorts);
    if (portSlots > portSlotsLeft) break;
    if (nicCount - onPorts <= free - portSlots) {
      const onRoot = nicCount - onPorts;
      return E.right({ nicPorts: onPorts, buses: Array.from({ length: nicCount }, (_, i) => (i < onRoot ? undefined : nicPortId(i - onRoot))) });
    }
  }
  const most = free - portSlotsLeft + portSlotsLeft * PORTS_PER_SLOT;
  return E.left(invalid('machine', 'NIC count', nicCount, `at most ${most} NICs beside ${hotplug} hotplug ports on q35`));
};
