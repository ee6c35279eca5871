// Golden tests: the exact argv for every NIC kind, and every refusal.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { describeArgsError, type ArgsError } from './errors.js';
import type { Nic, TapNic } from './nic.js';
import { interruptsFor, renderNicArgs, type Accel } from './render-nic.js';

const MAC = '52:54:00:12:34:56';
const tap = (over: Partial<TapNic> = {}): TapNic => ({
  kind: 'tap',
  id: 'net0',
  mac: MAC,
  mtu: 1500,
  queueFds: [3],
  vhostFds: [],
  ...over,
});

/** Under KVM unless a test is about TCG: every device keeps MSI-X there. */
const rendered = (nics: readonly Nic[], accel: Accel = 'kvm'): string[] => {
  const r = renderNicArgs(nics, accel);
  if (E.isLeft(r)) throw new Error(`expected args, got ${describeArgsError(r.left)}`);
  return r.right;
};
const refused = (nics: readonly Nic[]): ArgsError => {
  const r = renderNicArgs(nics, 'kvm');
  if (E.isRight(r)) throw new Error(`expected an error, got ${JSON.stringify(r.right)}`);
  return r.left;
};

test('tap with one queue uses fd= and vhost=off', (t) => {
  t.deepEqual(rendered([tap()]), [
    '-netdev',
    'tap,id=net0,fd=3,vhost=off',
    '-device',
    'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=',
  ]);
});

test('tap with one queue and a vhost fd uses vhostfd=', (t) => {
  t.deepEqual(rendered([tap({ vhostFds: [4] })]), [
    '-netdev',
    'tap,id=net0,fd=3,vhost=on,vhostfd=4',
    '-device',
    'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=',
  ]);
});

test('tap with two queues and no vhost uses fds= and enables mq with 2N+2 vectors', (t) => {
  t.deepEqual(rendered([tap({ queueFds: [3, 4] })]), [
    '-netdev',
    'tap,id=net0,fds=3:4,vhost=off',
    '-device',
    'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=6',
  ]);
});

test('tap with two queues and vhost uses fds= and vhostfds=', (t) => {
  t.deepEqual(rendered([tap({ queueFds: [3, 4], vhostFds: [5, 6] })]), [
    '-netdev',
    'tap,id=net0,fds=3:4,vhost=on,vhostfds=5:6',
    '-device',
    'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=6',
  ]);
});

test('macvtap renders as a tap netdev (QEMU drives both through the same fds)', (t) => {
  t.deepEqual(rendered([tap({ kind: 'macvtap', id: 'mvt.0', queueFds: [7, 8, 9, 10] })]), [
    '-netdev',
    'tap,id=mvt.0,fds=7:8:9:10,vhost=off',
    '-device',
    'virtio-net-pci,netdev=mvt.0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=10',
  ]);
});

test('an MTU other than 1500 is advertised with host_mtu', (t) => {
  t.deepEqual(rendered([tap({ mtu: 9000 })]), [
    '-netdev',
    'tap,id=net0,fd=3,vhost=off',
    '-device',
    'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,host_mtu=9000',
  ]);
  t.deepEqual(rendered([tap({ mtu: 9000, queueFds: [3, 4] })])[3], 'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=6,host_mtu=9000');
});

test('MACs are rendered lower case', (t) => {
  t.is(rendered([tap({ mac: '52:54:00:AB:CD:EF' })])[3], 'virtio-net-pci,netdev=net0,mac=52:54:00:ab:cd:ef,romfile=');
});

test('vhost-user with one queue: client chardev, no queues=, no mq', (t) => {
  t.deepEqual(rendered([{ kind: 'vhost-user', id: 'vu0', mac: MAC, socket: '/run/vu/vu0.sock', queues: 1 }]), [
    '-chardev',
    'socket,id=chr-vu0,path=/run/vu/vu0.sock',
    '-netdev',
    'vhost-user,id=vu0,chardev=chr-vu0',
    '-device',
    'virtio-net-pci,netdev=vu0,mac=52:54:00:12:34:56,romfile=',
  ]);
});

test('vhost-user with four queues: queues=4 and mq with 10 vectors', (t) => {
  t.deepEqual(rendered([{ kind: 'vhost-user', id: 'vu0', mac: MAC, socket: '/run/vu/vu0.sock', queues: 4 }]), [
    '-chardev',
    'socket,id=chr-vu0,path=/run/vu/vu0.sock',
    '-netdev',
    'vhost-user,id=vu0,chardev=chr-vu0,queues=4',
    '-device',
    'virtio-net-pci,netdev=vu0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=10',
  ]);
});

test('only a vhost backend under TCG loses MSI-X (QEMU 7.2 crashes unmasking a vector without KVM irqfds)', (t) => {
  t.is(interruptsFor('tcg', true), 'intx');
  t.is(interruptsFor('tcg', false), 'msix');
  t.is(interruptsFor('kvm', true), 'msix');
  t.is(interruptsFor('kvm', false), 'msix');
});

test('vhost-user under TCG: vectors=0 with one queue, and instead of 2N+2 with mq; KVM keeps MSI-X', (t) => {
  const vu = (queues: number): Nic => ({ kind: 'vhost-user', id: 'vu0', mac: MAC, socket: '/run/vu/vu0.sock', queues });
  t.is(rendered([vu(1)], 'tcg')[5], 'virtio-net-pci,netdev=vu0,mac=52:54:00:12:34:56,romfile=,vectors=0');
  t.is(rendered([vu(2)], 'tcg')[5], 'virtio-net-pci,netdev=vu0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=0');
  t.is(rendered([vu(2)], 'kvm')[5], 'virtio-net-pci,netdev=vu0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=6');
  t.deepEqual(rendered([vu(2)], 'tcg').slice(0, 4), rendered([vu(2)], 'kvm').slice(0, 4), 'chardev and netdev do not depend on the accelerator');
});

test('a tap under TCG keeps MSI-X without vhost and gets vectors=0 with vhost fds', (t) => {
  t.is(rendered([tap({ queueFds: [3, 4] })], 'tcg')[3], 'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=6');
  t.is(rendered([tap({ queueFds: [3, 4], vhostFds: [5, 6] })], 'tcg')[3], 'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=0');
  t.is(rendered([tap({ vhostFds: [4], mtu: 9000 })], 'tcg')[3], 'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,vectors=0,host_mtu=9000');
});

test('a comma in a vhost-user socket path is doubled', (t) => {
  t.is(
    rendered([{ kind: 'vhost-user', id: 'vu0', mac: MAC, socket: '/run/a,b/c,,d.sock', queues: 1 }])[1],
    'socket,id=chr-vu0,path=/run/a,,b/c,,,,d.sock',
  );
});

test('vfio bound to vfio-pci is passed through by its PCI address', (t) => {
  t.deepEqual(rendered([{ kind: 'vfio', id: 'pf0', bdf: '0000:3B:00.1', boundDriver: 'vfio-pci' }]), [
    '-device',
    'vfio-pci,host=0000:3b:00.1',
  ]);
});

test('vfio bound to another driver is refused, naming the BDF and driver, never rebinding', (t) => {
  const e = refused([{ kind: 'vfio', id: 'pf0', bdf: '0000:03:00.0', boundDriver: 'ixgbe' }]);
  t.deepEqual(e, { _tag: 'VfioNotBound', subject: 'nic "pf0"', bdf: '0000:03:00.0', boundDriver: 'ixgbe' });
  t.is(
    describeArgsError(e),
    'nic "pf0": host NIC 0000:03:00.0 is bound to ixgbe, expected vfio-pci. tapwire never rebinds a host NIC: ' +
      'bind 0000:03:00.0 to vfio-pci yourself (e.g. driverctl set-override 0000:03:00.0 vfio-pci) and retry',
  );
});

test('vfio with no driver bound is refused and says so', (t) => {
  const e = refused([{ kind: 'vfio', id: 'pf0', bdf: '0000:03:00.0', boundDriver: undefined }]);
  t.is(e._tag, 'VfioNotBound');
  t.regex(describeArgsError(e), /0000:03:00\.0 is bound to no driver, expected vfio-pci/);
});

test('several NICs render in order, each complete', (t) => {
  t.deepEqual(
    rendered([
      tap({ id: 'a', queueFds: [3, 4], vhostFds: [5, 6] }),
      tap({ kind: 'macvtap', id: 'b', mac: '52:54:00:00:00:02', queueFds: [7] }),
      { kind: 'vhost-user', id: 'c', mac: '52:54:00:00:00:03', socket: '/s', queues: 2 },
      { kind: 'vfio', id: 'd', bdf: '0000:03:00.0', boundDriver: 'vfio-pci' },
    ]),
    [
      '-netdev',
      'tap,id=a,fds=3:4,vhost=on,vhostfds=5:6',
      '-device',
      'virtio-net-pci,netdev=a,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=6',
      '-netdev',
      'tap,id=b,fd=7,vhost=off',
      '-device',
      'virtio-net-pci,netdev=b,mac=52:54:00:00:00:02,romfile=',
      '-chardev',
      'socket,id=chr-c,path=/s',
      '-netdev',
      'vhost-user,id=c,chardev=chr-c,queues=2',
      '-device',
      'virtio-net-pci,netdev=c,mac=52:54:00:00:00:03,romfile=,mq=on,vectors=6',
      '-device',
      'vfio-pci,host=0000:03:00.0',
    ],
  );
});

test('no NICs render nothing', (t) => {
  t.deepEqual(rendered([]), []);
});

test('options QEMU forbids next to fd=/fds= never appear', (t) => {
  const args = rendered([tap(), tap({ id: 'b', mac: '52:54:00:00:00:02', queueFds: [4, 5], vhostFds: [6, 7] })]);
  for (const a of args) t.notRegex(a, /(^|,)(queues|ifname|vnet_hdr|script|downscript|helper)=/);
});

const invalidValue = (t: import('ava').ExecutionContext, e: ArgsError, subject: string, field: string, input: string): void => {
  t.is(e._tag, 'InvalidValue');
  if (e._tag !== 'InvalidValue') return;
  t.is(e.subject, subject);
  t.is(e.field, field);
  t.is(e.input, input);
  t.true(e.expected.length > 0);
};

test('ids must follow QEMU’s id rule; the nic is then named by position', (t) => {
  for (const id of ['', '0net', 'net,0', 'net 0', 'net=0', 'né']) {
    invalidValue(t, refused([tap(), tap({ id, mac: '52:54:00:00:00:02', queueFds: [4] })]), 'nic #1', 'id', id);
  }
  t.regex(describeArgsError(refused([tap({ id: 'a,b' })])), /^nic #0: id "a,b" is invalid: expected a letter then/);
});

test('MACs must be six hex octets, unicast and non-zero', (t) => {
  for (const mac of ['52:54:00:12:34', '52-54-00-12-34-56', '5254.0012.3456', '52:54:00:12:34:5g', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00']) {
    invalidValue(t, refused([tap({ mac })]), 'nic "net0"', 'mac', mac);
  }
  t.regex(describeArgsError(refused([tap({ mac: '01:00:5e:00:00:01' })])), /multicast/);
});

test('MTU must be an integer from 68 to 65535', (t) => {
  for (const mtu of [67, 65536, 0, -1, 1500.5, Number.NaN]) invalidValue(t, refused([tap({ mtu })]), 'nic "net0"', 'mtu', String(mtu));
  t.notThrows(() => rendered([tap({ mtu: 68 })]));
  t.is(rendered([tap({ mtu: 65535 })])[3], 'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,host_mtu=65535');
});

test('fds must be integers >= 3', (t) => {
  for (const fd of [0, 1, 2, -1, 3.5]) {
    invalidValue(t, refused([tap({ queueFds: [fd] })]), 'nic "net0"', 'queue fd', String(fd));
    invalidValue(t, refused([tap({ vhostFds: [fd] })]), 'nic "net0"', 'vhost fd', String(fd));
  }
});

test('a tap needs 1..256 queue fds', (t) => {
  invalidValue(t, refused([tap({ queueFds: [] })]), 'nic "net0"', 'queue fd count', '0');
  const many = Array.from({ length: 257 }, (_, i) => i + 3);
  invalidValue(t, refused([tap({ queueFds: many })]), 'nic "net0"', 'queue fd count', '257');
});

test('vhost fds are none or one per queue fd', (t) => {
  const e = refused([tap({ queueFds: [3, 4], vhostFds: [5] })]);
  t.deepEqual(e, { _tag: 'FdCountMismatch', subject: 'nic "net0"', queueFds: 2, vhostFds: 1 });
  t.is(describeArgsError(e), 'nic "net0": 2 queue fds but 1 vhost fds: expected no vhost fds, or one per queue fd');
});

test('an fd used twice, within or across NICs, is refused naming both users', (t) => {
  t.deepEqual(refused([tap({ queueFds: [3, 4], vhostFds: [4, 5] })]), {
    _tag: 'DuplicateValue',
    field: 'fd',
    value: '4',
    subjects: ['nic "net0" queue fd', 'nic "net0" vhost fd'],
  });
  const e = refused([tap(), tap({ id: 'net1', mac: '52:54:00:00:00:02', queueFds: [4], vhostFds: [3] })]);
  t.deepEqual(e, { _tag: 'DuplicateValue', field: 'fd', value: '3', subjects: ['nic "net0" queue fd', 'nic "net1" vhost fd'] });
  t.is(describeArgsError(e), 'fd 3 is used by both nic "net0" queue fd and nic "net1" vhost fd: expected each fd to be used once');
});

test('ids and MACs must be unique across NICs', (t) => {
  t.deepEqual(refused([tap(), tap({ mac: '52:54:00:00:00:02', queueFds: [4] })]), {
    _tag: 'DuplicateValue',
    field: 'id',
    value: 'net0',
    subjects: ['nic "net0"', 'nic "net0"'],
  });
  t.deepEqual(refused([tap(), { kind: 'vhost-user', id: 'vu', mac: MAC.toUpperCase(), socket: '/s', queues: 1 }]), {
    _tag: 'DuplicateValue',
    field: 'mac',
    value: MAC,
    subjects: ['nic "net0"', 'nic "vu"'],
  });
});

test('vhost-user needs an absolute socket path that fits sun_path and 1..256 queues', (t) => {
  const vu = (socket: string, queues = 1): Nic => ({ kind: 'vhost-user', id: 'vu', mac: MAC, socket, queues });
  invalidValue(t, refused([vu('relative.sock')]), 'nic "vu"', 'socket', 'relative.sock');
  invalidValue(t, refused([vu('/a\0b')]), 'nic "vu"', 'socket', '/a\0b');
  const long = `/${'x'.repeat(107)}`;
  invalidValue(t, refused([vu(long)]), 'nic "vu"', 'socket', long);
  t.notThrows(() => rendered([vu(`/${'x'.repeat(106)}`)]));
  for (const q of [0, 257, 1.5]) invalidValue(t, refused([vu('/s', q)]), 'nic "vu"', 'queues', String(q));
});

test('vfio needs a sysfs-style PCI address', (t) => {
  for (const bdf of ['03:00.0', '0000:03:00', '0000:03:20.0', '0000:03:00.8', 'pci0000:03:00.0', '0000:03:00.0,x=1']) {
    invalidValue(t, refused([{ kind: 'vfio', id: 'pf', bdf, boundDriver: 'vfio-pci' }]), 'nic "pf"', 'bdf', bdf);
  }
});
