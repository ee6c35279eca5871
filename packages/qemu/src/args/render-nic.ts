// -netdev/-device/-chardev arguments for the guest NICs, following QEMU's
// documented tap netdev options (checked against qemu-system-x86_64 7.2).
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { invalid, type ArgsError } from './errors.js';
import { optString } from './escape.js';
import { flatNic, type Nic, type NicInput, type TapNic, type VfioNic, type VhostUserNic } from './nic.js';
import { checkBdf, checkFd, checkId, checkMac, checkMtu, checkIntInRange, checkSocketPath, MAX_QUEUES } from './validate.js';

const DEFAULT_MTU = 1500;
const nicSubject = (id: string): string => `nic ${JSON.stringify(id)}`;

export type Accel = 'kvm' | 'tcg';

/**
 * How a virtio-net-pci device interrupts the guest. MSI-X (one vector per rx
 * and tx queue, plus config and control) unless a vhost backend serves the
 * rings under TCG: QEMU 7.2 then dies with SIGSEGV as soon as the guest
 * unmasks a vector, because that path (virtio_pci_set_guest_notifiers, the
 * same for vhost-user and vhost-net) uses an irqfd only KVM allocates.
 * vectors=0 leaves the device on legacy INTx, which works, multiqueue too.
 */
export type Interrupts = 'msix' | 'intx';
export const interruptsFor = (accel: Accel, vhostBackend: boolean): Interrupts => (accel === 'tcg' && vhostBackend ? 'intx' : 'msix');

/** virtio-net-pci with the option ROM off (no PXE, and no ROM file needed). */
const virtioNetDevice = (id: string, mac: string, queues: number, mtu: number, interrupts: Interrupts, deviceId: string | undefined, bus: string | undefined): string[] => {
  const pairs: [string, string][] = [
    ['netdev', id],
    ['mac', mac],
    ['romfile', ''],
  ];
  if (queues > 1) pairs.push(['mq', 'on']);
  if (interrupts === 'intx') pairs.push(['vectors', '0']);
  else if (queues > 1) pairs.push(['vectors', String(2 * queues + 2)]);
  if (mtu !== DEFAULT_MTU) pairs.push(['host_mtu', String(mtu)]);
  // Last, so the device reads as before for callers that set no id.
  if (deviceId !== undefined) pairs.push(['id', deviceId]);
  if (bus !== undefined) pairs.push(['bus', bus]);
  return ['-device', optString('virtio-net-pci', pairs)];
};

const checkFds = (subject: string, field: string, fds: readonly number[]): E.Either<ArgsError, readonly number[]> =>
  E.sequenceArray(fds.map((fd) => checkFd(subject, field, fd)));

/**
 * fd=/fds= already name open taps, so QEMU forbids queues=, ifname=, vnet_hdr=,
 * script= and downscript= next to them: none is ever rendered. One queue uses
 * the singular fd=/vhostfd= forms.
 */
const renderTap = (nic: TapNic, subject: string, accel: Accel): E.Either<ArgsError, string[]> =>
  pipe(
    E.Do,
    E.bind('mac', () => checkMac(subject, nic.mac)),
    E.bind('mtu', () => checkMtu(subject, nic.mtu)),
    E.bind('queueFds', () =>
      nic.queueFds.length >= 1 && nic.queueFds.length <= MAX_QUEUES
        ? checkFds(subject, 'queue fd', nic.queueFds)
        : E.left(invalid(subject, 'queue fd count', nic.queueFds.length, `1 to ${MAX_QUEUES} open queue fds`)),
    ),
    E.bind('vhostFds', ({ queueFds }) =>
      nic.vhostFds.length === 0 || nic.vhostFds.length === queueFds.length
        ? checkFds(subject, 'vhost fd', nic.vhostFds)
        : E.left<ArgsError>({ _tag: 'FdCountMismatch', subject, queueFds: queueFds.length, vhostFds: nic.vhostFds.length }),
    ),
    E.map(({ mac, mtu, queueFds, vhostFds }) => {
      const single = queueFds.length === 1;
      const pairs: [string, string][] = [['id', nic.id], single ? ['fd', String(queueFds[0])] : ['fds', queueFds.join(':')]];
      if (vhostFds.length === 0) pairs.push(['vhost', 'off']);
      else pairs.push(['vhost', 'on'], single ? ['vhostfd', String(vhostFds[0])] : ['vhostfds', vhostFds.join(':')]);
      return ['-netdev', optString('tap', pairs), ...virtioNetDevice(nic.id, mac, queueFds.length, mtu, interruptsFor(accel, vhostFds.length > 0), nic.deviceId, nic.bus)];
    }),
  );

/** QEMU is the vhost-user client: it connects to the backend's socket. */
const renderVhostUser = (nic: VhostUserNic, subject: string, accel: Accel): E.Either<ArgsError, string[]> =>
  pipe(
    E.Do,
    E.bind('mac', () => checkMac(subject, nic.mac)),
    E.bind('socket', () => checkSocketPath(subject, 'socket', nic.socket)),
    E.bind('queues', () => checkIntInRange(subject, 'queues', nic.queues, 1, MAX_QUEUES)),
    E.map(({ mac, socket, queues }) => {
      const chardev = `chr-${nic.id}`;
      const netdev: [string, string][] = [
        ['id', nic.id],
        ['chardev', chardev],
      ];
      if (queues > 1) netdev.push(['queues', String(queues)]);
      return [
        '-chardev',
        optString('socket', [
          ['id', chardev],
          ['path', socket],
        ]),
        '-netdev',
        optString('vhost-user', netdev),
        ...virtioNetDevice(nic.id, mac, queues, DEFAULT_MTU, interruptsFor(accel, true), nic.deviceId, nic.bus),
      ];
    }),
  );

const VFIO_DRIVER = 'vfio-pci';
const renderVfio = (nic: VfioNic, subject: string): E.Either<ArgsError, string[]> =>
  pipe(
    checkBdf(subject, nic.bdf),
    E.chain((bdf) =>
      nic.boundDriver === VFIO_DRIVER
        ? E.right(['-device', optString('vfio-pci', [['host', bdf], ...(nic.deviceId === undefined ? [] : [['id', nic.deviceId] as [string, string]]), ...(nic.bus === undefined ? [] : [['bus', nic.bus] as [string, string]])])])
        : E.left<ArgsError>({ _tag: 'VfioNotBound', subject, bdf, boundDriver: nic.boundDriver }),
    ),
  );

const renderOne = (nic: Nic, subject: string, accel: Accel): E.Either<ArgsError, string[]> => {
  switch (nic.kind) {
    case 'tap':
    case 'macvtap':
      return renderTap(nic, subject, accel);
    case 'vhost-user':
      return renderVhostUser(nic, subject, accel);
    case 'vfio':
      return renderVfio(nic, subject);
  }
};

/** A bus is a device id too (a root port's): the same rule as checkId. */
const checkBus = (subject: string, bus: string | undefined): E.Either<ArgsError, void> =>
  bus === undefined || E.isRight(checkId(subject, bus)) ? E.right(undefined) : E.left(invalid(subject, 'bus', bus, 'a device id such as a pcie-root-port\'s ([A-Za-z][A-Za-z0-9_.-]*)'));

/** Remembers who used a value first, to name both holders of a duplicate. */
const firstUse = <K>(
  seen: Map<K, string>,
  field: 'id' | 'mac' | 'fd',
  key: K,
  shown: string,
  subject: string,
): ArgsError | undefined => {
  const prior = seen.get(key);
  if (prior !== undefined) return { _tag: 'DuplicateValue', field, value: shown, subjects: [prior, subject] };
  seen.set(key, subject);
  return undefined;
};

/** Ids, MACs and fds must each be unique across the whole VM. */
const checkUnique = (nics: readonly Nic[]): E.Either<ArgsError, void> => {
  const ids = new Map<string, string>();
  const macs = new Map<string, string>();
  const fds = new Map<number, string>();
  for (const nic of nics) {
    const subject = nicSubject(nic.id);
    const dup =
      firstUse(ids, 'id', nic.id, nic.id, subject) ??
      (nic.kind === 'vfio' ? undefined : firstUse(macs, 'mac', nic.mac.toLowerCase(), nic.mac.toLowerCase(), subject)) ??
      (nic.kind === 'tap' || nic.kind === 'macvtap'
        ? [...nic.queueFds.map((fd) => [fd, 'queue fd'] as const), ...nic.vhostFds.map((fd) => [fd, 'vhost fd'] as const)]
            .map(([fd, what]) => firstUse(fds, 'fd', fd, String(fd), `${subject} ${what}`))
            .find((e) => e !== undefined)
        : undefined);
    if (dup !== undefined) return E.left(dup);
  }
  return E.right(undefined);
};

/**
 * The NIC arguments in NIC order; the first bad value stops rendering. The
 * accelerator is the one this QEMU will run with: devices differ by it.
 */
export const renderNicArgs = (inputs: readonly NicInput[], accel: Accel): E.Either<ArgsError, string[]> => {
  const nics = inputs.map(flatNic);
  return pipe(
    E.sequenceArray(
      nics.map((nic, i) =>
        pipe(
          checkId(`nic #${i}`, nic.id),
          E.chainFirst((id) => checkBus(nicSubject(id), nic.bus)),
          E.chain((id) => renderOne(nic, nicSubject(id), accel)),
        ),
      ),
    ),
    E.chainFirst(() => checkUnique(nics)),
    E.map((parts) => parts.flat()),
  );
};
