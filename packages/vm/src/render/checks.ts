// Field checks every renderer shares, each naming the VMM and the field.
import * as A from 'fp-ts/lib/Array.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { NicSpec } from '../nic.js';
import { badField, type RenderError, type Vmm } from './errors.js';
import type { GuestMachine } from './guest.js';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
/** PCI address as NicSpec holds it: [DDDD:]BB:SS.F. */
const PCI = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/i;

export interface PciParts {
  readonly domain: number;
  readonly bus: number;
  readonly slot: number;
  readonly fn: number;
}

export const checkMac = (vmm: Vmm, nic: NicSpec): E.Either<RenderError, string> =>
  MAC.test(nic.mac) ? E.right(nic.mac.toLowerCase()) : E.left(badField(vmm, `NIC ${nic.id}`, 'mac', nic.mac, 'a MAC address aa:bb:cc:dd:ee:ff'));

export const checkPci = (vmm: Vmm, subject: string, field: string, value: string): E.Either<RenderError, PciParts> => {
  const m = PCI.exec(value);
  if (m === null) return E.left(badField(vmm, subject, field, value, 'a PCI address [DDDD:]BB:SS.F'));
  return E.right({ domain: parseInt(m[1] ?? '0', 16), bus: parseInt(m[2] ?? '0', 16), slot: parseInt(m[3] ?? '0', 16), fn: Number(m[4]) });
};

export const checkPositiveInt = (vmm: Vmm, subject: string, field: string, value: number, max: number): E.Either<RenderError, number> =>
  Number.isInteger(value) && value >= 1 && value <= max ? E.right(value) : E.left(badField(vmm, subject, field, value, `an integer 1..${max}`));

/** Absolute, NUL-free; anything else would be read relative to the VMM's cwd. */
export const checkPath = (vmm: Vmm, subject: string, field: string, value: string): E.Either<RenderError, string> =>
  value.startsWith('/') && !value.includes('\0') ? E.right(value) : E.left(badField(vmm, subject, field, value, 'an absolute path'));

export const checkNicIds = (vmm: Vmm, nics: readonly NicSpec[]): E.Either<RenderError, void> => {
  const seen = new Set<string>();
  for (const n of nics) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(n.id) || seen.has(n.id)) return E.left(badField(vmm, 'NIC', 'id', n.id, 'a unique id of letters, digits, _ and -'));
    seen.add(n.id);
  }
  return E.right(undefined);
};

export const checkMachine = (vmm: Vmm, m: GuestMachine): E.Either<RenderError, void> => {
  const checks = [
    checkPositiveInt(vmm, 'machine', 'vcpus', m.vcpus, 255),
    checkPositiveInt(vmm, 'machine', 'memMiB', m.memMiB, 1024 * 1024),
    checkPath(vmm, 'machine', 'kernel', m.kernel),
    ...(m.initrd === undefined ? [] : [checkPath(vmm, 'machine', 'initrd', m.initrd)]),
    checkPath(vmm, 'machine', 'serialLog', m.serialLog),
    m.cmdline.includes('\0') ? E.left(badField(vmm, 'machine', 'cmdline', m.cmdline, 'no NUL')) : E.right(''),
  ];
  for (const c of checks) if (E.isLeft(c)) return c;
  return E.right(undefined);
};

/**
 * virtio-net enables min(queue pairs, vCPUs) pairs: a NIC with more queues than
 * vCPUs leaves some of them unread (its tap drops what lands there).
 */
export const checkVcpusCoverQueues = (vmm: Vmm, m: GuestMachine, nics: readonly NicSpec[]): E.Either<RenderError, void> => {
  const wide = nics.find((n) => n.queues > m.vcpus);
  return wide === undefined
    ? E.right(undefined)
    : E.left({ _tag: 'UnsupportedQueues', vmm, nic: wide.id, queues: wide.queues, why: `the VM has ${m.vcpus} vCPUs; give it at least one per queue pair` });
};

/** The checks every renderer makes before its own: the machine, unique NIC ids, a vCPU per queue pair. */
export const checkMachineAndNics = (vmm: Vmm, m: GuestMachine, nics: readonly NicSpec[]): E.Either<RenderError, void> =>
  pipe(
    checkMachine(vmm, m),
    E.chain(() => checkNicIds(vmm, nics)),
    E.chain(() => checkVcpusCoverQueues(vmm, m, nics)),
  );

/** Renders every NIC in order, stopping at the first that the VMM cannot take. */
export const renderEach = <T>(nics: readonly NicSpec[], render: (n: NicSpec) => E.Either<RenderError, T>): E.Either<RenderError, readonly T[]> =>
  A.traverse(E.Applicative)(render)([...nics]);
