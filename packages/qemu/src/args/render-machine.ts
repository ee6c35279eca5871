// Everything on the QEMU command line that is not a NIC: a q35 machine with no
// default devices, a direct kernel boot, QMP on a unix socket and the serial
// console in a file.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { invalid, type ArgsError } from './errors.js';
import { optString } from './escape.js';
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
}

const SUBJECT = 'machine';
/** Ids of our own chardevs and memory object; NIC chardevs are chr-<id>, so they never collide. */
export const QMP_CHARDEV_ID = 'qmp';
export const SERIAL_CHARDEV_ID = 'serial0';
export const SHARED_MEMORY_ID = 'mem';

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
    E.map(({ accel, memMiB, cpus, kernel, initrd, append, qmpSocket, serialLog }) => [
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
      '-chardev',
      // stdio so the launcher watches the console live; logfile keeps a copy.
      optString('stdio', [
        ['id', SERIAL_CHARDEV_ID],
        ['signal', 'off'],
        ['logfile', serialLog],
      ]),
      '-serial',
      `chardev:${SERIAL_CHARDEV_ID}`,
    ]),
  );
