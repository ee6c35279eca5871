// Everything on the QEMU command line that is not a NIC: a q35 machine with no
// default devices, a direct kernel boot, QMP on a unix socket and the serial
// console in a file.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { invalid, type ArgsError } from './errors.js';
import { optString } from './escape.js';
import { nicPortFirstSlot, nicPortId, PORT_FIRST_SLOT, PORT_LAST_SLOT, PORTS_PER_SLOT } from './nic-placement.js';
import { checkIntInRange, checkNoNul, checkPath, checkSocketPath } from './validate.js';

export interface MachineSpec {
  readonly accel: 'kvm' | 'tcg';
  readonly memMiB: number;
  readonly cpus: number;
  /** Absolute path of a Linux kernel image (bzImage). */
  readonly kernel: string;
  /** Absolute path of an initramfs; undefined boots without one. */
  readonly initrd: string | undefined;
  /** Kernel command line; empty renders no -append. */
  readonly append: string;
  /** Unix socket QEMU listens on for QMP (created by QEMU). */
  readonly qmpSocket: string;
  /** The guest's first serial port goes to QEMU's stdout and is also logged to this file. */
  readonly serialLog: string;
  /** Guest RAM as a shared memfd, which vhost-user backends map. */
  readonly needsSharedMemory: boolean;
  /**
   * Empty pcie-root-ports reserved for NICs hotplugged later (ids hotplugPortId(i)):
   * q35's root bus itself takes no hotplug. Default 0.
   */
  readonly hotplugPorts?: number;
  /**
   * Root ports for cold-plugged NICs that do not fit on pcie.0 (ids
   * nicPortId(i), after the hotplug ports): nic-placement.ts decides. Default 0.
   */
  readonly nicPorts?: number;
  /**
   * The guest control channel: a virtio-serial port named CONTROL_PORT_NAME whose
   * host end is a unix socket QEMU listens on (guest/init reads NIC configs from it).
   */
  readonly controlSocket?: string;
  /**
   * A second QMP monitor for people and other tools: QEMU serves one client per
   * monitor, and the runtime holds qmpSocket's for as long as the VM runs.
   */
  readonly extraQmpSocket?: string;
}

const SUBJECT = 'machine';
/** Ids of our own chardevs and memory object; NIC chardevs are chr-<id>, so they never collide. */
export const QMP_CHARDEV_ID = 'qmp';
export const SERIAL_CHARDEV_ID = 'serial0';
export const SHARED_MEMORY_ID = 'mem';
export const CONTROL_CHARDEV_ID = 'tapwire-ctl';
export const EXTRA_QMP_CHARDEV_ID = 'qmp-extra';
export const CONTROL_SERIAL_ID = 'tapwire-vser';
/** The virtio-serial port's name: the guest finds it by the name file of each virtio port in sysfs. */
export const CONTROL_PORT_NAME = 'tapwire.0';

/** The id of the i-th root port reserved for hotplug: device_add takes it as bus=. */
export const hotplugPortId = (i: number): string => `hp${i}`;
/**
 * Root ports sit 8 to a slot (multifunction) from slot 0x10 up to 0x1e: 0x1f
 * is q35's LPC/SATA/SMBus, and NICs given no address take the free slots
 * below 0x10 (the machine's arguments come first, so these are placed first).
 */
export const MAX_HOTPLUG_PORTS = (PORT_LAST_SLOT - PORT_FIRST_SLOT + 1) * PORTS_PER_SLOT;

/** count root ports named id(i), from firstSlot, with chassis numbers from firstChassis. */
const rootPortArgs = (count: number, id: (i: number) => string, firstSlot: number, firstChassis: number): string[] =>
  Array.from({ length: count }, (_, i) => {
    const slot = firstSlot + Math.floor(i / PORTS_PER_SLOT);
    const fn = i % PORTS_PER_SLOT;
    const pairs: [string, string][] = [
      ['id', id(i)],
      ['bus', 'pcie.0'],
      // chassis/slot pairs must be unique per port; 0 is the root bus's own.
      ['chassis', String(firstChassis + i)],
      ['addr', `0x${slot.toString(16)}.0x${fn.toString(16)}`],
    ];
    if (fn === 0) pairs.push(['multifunction', 'on']);
    return ['-device', optString('pcie-root-port', pairs)];
  }).flat();

const controlArgs = (socket: string): string[] => [
  '-device',
  optString('virtio-serial-pci', [['id', CONTROL_SERIAL_ID]]),
  '-chardev',
  optString('socket', [
    ['id', CONTROL_CHARDEV_ID],
    ['path', socket],
    ['server', 'on'],
    ['wait', 'off'],
  ]),
  '-device',
  optString('virtserialport', [
    ['bus', `${CONTROL_SERIAL_ID}.0`],
    ['chardev', CONTROL_CHARDEV_ID],
    ['name', CONTROL_PORT_NAME],
  ]),
];

/** Bounds QEMU's q35 takes without extra setup (x2APIC/IOMMU for more CPUs). */
const MAX_CPUS = 255;
const MIN_MEM_MIB = 16;
const MAX_MEM_MIB = 1024 * 1024;

/** KVM passes the host CPU through; TCG emulates the most it can. */
const cpuModel = (accel: 'kvm' | 'tcg'): string => (accel === 'kvm' ? 'host' : 'max');

const checkAccel = (accel: unknown): E.Either<ArgsError, 'kvm' | 'tcg'> =>
  accel === 'kvm' || accel === 'tcg' ? E.right(accel) : E.left(invalid(SUBJECT, 'accel', accel, '"kvm" or "tcg"'));

/**
 * -kernel, -initrd and -append are plain strings to QEMU, not option lists:
 * they are passed as is (doubling a comma there would change the path). The
 * QMP socket and the serial log go through -chardev, whose values are escaped.
 * -serial file:PATH is avoided on purpose: its legacy parser takes the path
 * verbatim, so a comma would mean different things in different options.
 */
export const renderMachineArgs = (m: MachineSpec): E.Either<ArgsError, string[]> =>
  pipe(
    E.Do,
    E.bind('accel', () => checkAccel(m.accel)),
    E.bind('memMiB', () => checkIntInRange(SUBJECT, 'memMiB', m.memMiB, MIN_MEM_MIB, MAX_MEM_MIB)),
    E.bind('cpus', () => checkIntInRange(SUBJECT, 'cpus', m.cpus, 1, MAX_CPUS)),
    E.bind('kernel', () => checkPath(SUBJECT, 'kernel', m.kernel)),
    E.bind('initrd', () => (m.initrd === undefined ? E.right(undefined) : checkPath(SUBJECT, 'initrd', m.initrd))),
    E.bind('append', () => checkNoNul(SUBJECT, 'append', m.append)),
    E.bind('qmpSocket', () => checkSocketPath(SUBJECT, 'qmpSocket', m.qmpSocket)),
    E.bind('serialLog', () => checkPath(SUBJECT, 'serialLog', m.serialLog)),
    E.bind('hotplugPorts', () => checkIntInRange(SUBJECT, 'hotplugPorts', m.hotplugPorts ?? 0, 0, MAX_HOTPLUG_PORTS)),
    E.bind('nicPorts', ({ hotplugPorts }) =>
      checkIntInRange(SUBJECT, 'nicPorts', m.nicPorts ?? 0, 0, (PORT_LAST_SLOT - nicPortFirstSlot(hotplugPorts) + 1) * PORTS_PER_SLOT),
    ),
    E.bind('controlSocket', () => (m.controlSocket === undefined ? E.right(undefined) : checkSocketPath(SUBJECT, 'controlSocket', m.controlSocket))),
    E.bind('extraQmpSocket', () => (m.extraQmpSocket === undefined ? E.right(undefined) : checkSocketPath(SUBJECT, 'extraQmpSocket', m.extraQmpSocket))),
    E.map(({ accel, memMiB, cpus, kernel, initrd, append, qmpSocket, serialLog, hotplugPorts, nicPorts, controlSocket, extraQmpSocket }) => [
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-machine',
      'q35',
      '-accel',
      accel,
      '-cpu',
      cpuModel(accel),
      '-smp',
      String(cpus),
      '-m',
      `${memMiB}M`,
      ...(m.needsSharedMemory
        ? [
            '-object',
            optString('memory-backend-memfd', [
              ['id', SHARED_MEMORY_ID],
              ['size', `${memMiB}M`],
              ['share', 'on'],
            ]),
            '-numa',
            optString('node', [['memdev', SHARED_MEMORY_ID]]),
          ]
        : []),
      '-kernel',
      kernel,
      ...(initrd === undefined ? [] : ['-initrd', initrd]),
      ...(append === '' ? [] : ['-append', append]),
      '-chardev',
      optString('socket', [
        ['id', QMP_CHARDEV_ID],
        ['path', qmpSocket],
        ['server', 'on'],
        ['wait', 'off'],
      ]),
      '-mon',
      `chardev=${QMP_CHARDEV_ID},mode=control`,
      ...(extraQmpSocket === undefined
        ? []
        : [
            '-chardev',
            optString('socket', [
              ['id', EXTRA_QMP_CHARDEV_ID],
              ['path', extraQmpSocket],
              ['server', 'on'],
              ['wait', 'off'],
            ]),
            '-mon',
            `chardev=${EXTRA_QMP_CHARDEV_ID},mode=control`,
          ]),
      '-chardev',
      // stdio so the launcher watches the console live; logfile keeps a copy.
      optString('stdio', [
        ['id', SERIAL_CHARDEV_ID],
        ['signal', 'off'],
        ['logfile', serialLog],
      ]),
      '-serial',
      `chardev:${SERIAL_CHARDEV_ID}`,
      ...rootPortArgs(hotplugPorts, hotplugPortId, PORT_FIRST_SLOT, 1),
      ...rootPortArgs(nicPorts, nicPortId, nicPortFirstSlot(hotplugPorts), hotplugPorts + 1),
      ...(controlSocket === undefined ? [] : controlArgs(controlSocket)),
    ]),
  );
