// NicSpec -> cloud-hypervisor command line. Pure.
//
// Syntax (cloud-hypervisor --help, docs/networking and vhost-user-net docs):
//   --net fd=[3,4],mac=..,num_queues=4,mtu=..,id=..   taps/macvtaps we opened
//   --net tap=NAME,mac=..,num_queues=2,id=..          a tap it opens itself
//   --net vhost_user=true,socket=PATH,vhost_mode=client,mac=..,num_queues=..
//   --device path=/sys/bus/pci/devices/BDF/           a VFIO function
// num_queues counts rx and tx queues separately: twice the queue pairs.
// cloud-hypervisor runs virtio-net in its own process (no vhost-net fds) and
// needs KVM; it places PCI devices itself (only a segment can be chosen).
import * as E from 'fp-ts/lib/Either.js';
import { nicsNeedSharedMemory, type NicFds, type NicSpec } from '../nic.js';
import { checkMac, checkMachineAndNics, checkPositiveInt } from './checks.js';
import { badField, unsupportedBackend, type RenderError } from './errors.js';
import type { GuestMachine } from './guest.js';

const VMM = 'cloud-hypervisor';
const MAX_QUEUE_PAIRS = 256;

/** Values inside cloud-hypervisor's comma-separated option lists cannot hold these. */
const checkOptionValue = (subject: string, field: string, v: string): E.Either<RenderError, string> =>
  /^[^,=[\]\0]+$/.test(v) ? E.right(v) : E.left(badField(VMM, subject, field, v, 'no comma, =, brackets or NUL (cloud-hypervisor has no escape for them)'));

const option = (pairs: readonly (readonly [string, string | number])[]): string => pairs.map(([k, v]) => `${k}=${v}`).join(',');

/** The argv words of one NIC; fds are the numbers cloud-hypervisor sees. */
export const renderCloudHypervisorNic = (nic: NicSpec, fds: NicFds | undefined): E.Either<RenderError, string[]> => {
  const subject = `NIC ${nic.id}`;
  if (nic.pciAddress !== undefined) return E.left(badField(VMM, subject, 'pciAddress', nic.pciAddress, 'none: cloud-hypervisor places devices itself'));
  const b = nic.backend;
  if (b.kind === 'vfio') {
    if (b.boundDriver !== 'vfio-pci') return E.left(unsupportedBackend(VMM, nic, `${b.bdf} is bound to ${b.boundDriver ?? 'no driver'}, not vfio-pci`));
    const bdf = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/i.test(b.bdf) ? E.right(b.bdf) : E.left(badField(VMM, subject, 'bdf', b.bdf, 'DDDD:BB:SS.F'));
    if (E.isLeft(bdf)) return bdf;
    return E.right(['--device', option([['path', `/sys/bus/pci/devices/${bdf.right}/`], ['id', nic.id]])]);
  }
  const queues = checkPositiveInt(VMM, subject, 'queues', nic.queues, MAX_QUEUE_PAIRS);
  if (E.isLeft(queues)) return queues;
  const mac = checkMac(VMM, nic);
  if (E.isLeft(mac)) return mac;
  const common: [string, string | number][] = [
    ['mac', mac.right],
    ['num_queues', 2 * nic.queues],
    ['mtu', nic.mtu],
    ['id', nic.id],
  ];
  if (b.kind === 'vhost-user') {
    const socket = checkOptionValue(subject, 'socket', b.socket);
    if (E.isLeft(socket)) return socket;
    return E.right(['--net', option([['vhost_user', 'true'], ['socket', socket.right], ['vhost_mode', 'client'], ...common])]);
  }
  if (fds !== undefined && fds.vhostFds.length > 0) {
    return E.left(unsupportedBackend(VMM, nic, 'cloud-hypervisor serves virtio-net itself and takes no /dev/vhost-net fds (open the NIC with vhost off)'));
  }
  if (fds === undefined || fds.queueFds.length === 0) {
    if (b.kind === 'macvtap') return E.left(unsupportedBackend(VMM, nic, `a macvtap is passed as fds (its /dev/tap${b.ifindex} is ambiguous across netns); prepare the NIC's fds first`));
    const tap = checkOptionValue(subject, 'device', b.device);
    if (E.isLeft(tap)) return tap;
    if ((nic.queues > 1) !== b.multiQueue) {
      return E.left({ _tag: 'UnsupportedQueues', vmm: VMM, nic: nic.id, queues: nic.queues, why: `tap ${b.device} is ${b.multiQueue ? '' : 'not '}multi_queue` });
    }
    return E.right(['--net', option([['tap', tap.right], ...common])]);
  }
  if (fds.queueFds.length !== nic.queues) {
    return E.left(badField(VMM, subject, 'queueFds', fds.queueFds.join(','), `one fd per queue pair (${nic.queues})`));
  }
  return E.right(['--net', option([['fd', `[${fds.queueFds.join(',')}]`], ...common])]);
};

/** The whole command line after the binary; fdsOf(i) gives the i-th NIC's fds (undefined: open by name). */
export const renderCloudHypervisorArgv = (
  m: GuestMachine,
  nics: readonly NicSpec[],
  fdsOf: (i: number) => NicFds | undefined = () => undefined,
): E.Either<RenderError, string[]> => {
  if (m.accel !== 'kvm') return E.left(badField(VMM, 'machine', 'accel', m.accel, 'kvm (cloud-hypervisor has no emulator)'));
  const checked = checkMachineAndNics(VMM, m, nics);
  if (E.isLeft(checked)) return checked;
  const serial = checkOptionValue('machine', 'serialLog', m.serialLog);
  if (E.isLeft(serial)) return serial;
  const net: string[] = [];
  for (const [i, n] of nics.entries()) {
    const r = renderCloudHypervisorNic(n, fdsOf(i));
    if (E.isLeft(r)) return r;
    net.push(...r.right);
  }
  return E.right([
    '--kernel',
    m.kernel,
    ...(m.initrd === undefined ? [] : ['--initramfs', m.initrd]),
    '--cmdline',
    m.cmdline,
    '--cpus',
    `boot=${m.vcpus}`,
    '--memory',
    // A vhost-user backend maps guest RAM: it must be shared.
    option([['size', `${m.memMiB}M`], ...(nicsNeedSharedMemory(nics) ? [['shared', 'on'] as const] : [])]),
    '--serial',
    `file=${serial.right}`,
    '--console',
    'off',
    ...net,
  ]);
};
