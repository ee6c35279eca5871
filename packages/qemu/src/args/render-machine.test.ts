import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { renderQemuArgv } from './argv.js';
import { describeArgsError } from './errors.js';
import { MAX_HOTPLUG_PORTS, renderMachineArgs, type MachineSpec } from './render-machine.js';

const spec: MachineSpec = {
  accel: 'tcg',
  memMiB: 512,
  cpus: 2,
  kernel: '/var/lib/tapwire/vmlinuz',
  initrd: '/var/lib/tapwire/initrd.img',
  append: 'console=ttyS0 quiet',
  qmpSocket: '/run/tapwire/vm0/qmp.sock',
  serialLog: '/run/tapwire/vm0/serial.log',
  needsSharedMemory: false,
};

const tail = [
  '-kernel',
  '/var/lib/tapwire/vmlinuz',
  '-initrd',
  '/var/lib/tapwire/initrd.img',
  '-append',
  'console=ttyS0 quiet',
  '-chardev',
  'socket,id=qmp,path=/run/tapwire/vm0/qmp.sock,server=on,wait=off',
  '-mon',
  'chardev=qmp,mode=control',
  '-chardev',
  'stdio,id=serial0,signal=off,logfile=/run/tapwire/vm0/serial.log',
  '-serial',
  'chardev:serial0',
];

test('tcg machine', (t) => {
  t.deepEqual(
    renderMachineArgs(spec),
    E.right([
      '-nodefaults', '-no-user-config', '-display', 'none',
      '-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', '512M',
      ...tail,
    ]),
  );
});

test('kvm machine uses the host CPU', (t) => {
  const r = renderMachineArgs({ ...spec, accel: 'kvm', cpus: 4, memMiB: 1024 });
  t.deepEqual(
    E.map((a: string[]) => a.slice(0, 14))(r),
    E.right(['-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'q35', '-accel', 'kvm', '-cpu', 'host', '-smp', '4', '-m', '1024M']),
  );
});

test('shared memory: one memfd backend of the whole RAM, share=on, as the NUMA node', (t) => {
  t.deepEqual(
    renderMachineArgs({ ...spec, needsSharedMemory: true }),
    E.right([
      '-nodefaults', '-no-user-config', '-display', 'none',
      '-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', '512M',
      '-object', 'memory-backend-memfd,id=mem,size=512M,share=on',
      '-numa', 'node,memdev=mem',
      ...tail,
    ]),
  );
});

test('no initrd and an empty command line render neither option', (t) => {
  const r = renderMachineArgs({ ...spec, initrd: undefined, append: '' });
  t.true(E.isRight(r));
  if (E.isRight(r)) {
    t.false(r.right.includes('-initrd'));
    t.false(r.right.includes('-append'));
  }
});

test('commas: doubled in -chardev paths, kept as is in -kernel/-initrd/-append (plain strings to QEMU)', (t) => {
  const r = renderMachineArgs({
    ...spec,
    kernel: '/k,1/vmlinuz',
    initrd: '/k,1/initrd',
    append: 'console=ttyS0 ip=10.0.0.2::10.0.0.1:255.255.255.0::eth0:off x=a,b',
    qmpSocket: '/run/a,b/qmp.sock',
    serialLog: '/run/a,b/serial,log',
  });
  t.deepEqual(
    E.map((a: string[]) => a.slice(14))(r),
    E.right([
      '-kernel', '/k,1/vmlinuz',
      '-initrd', '/k,1/initrd',
      '-append', 'console=ttyS0 ip=10.0.0.2::10.0.0.1:255.255.255.0::eth0:off x=a,b',
      '-chardev', 'socket,id=qmp,path=/run/a,,b/qmp.sock,server=on,wait=off',
      '-mon', 'chardev=qmp,mode=control',
      '-chardev', 'stdio,id=serial0,signal=off,logfile=/run/a,,b/serial,,log',
      '-serial', 'chardev:serial0',
    ]),
  );
});

test('bad machine values are refused naming the field and what was expected', (t) => {
  const bad: [Partial<MachineSpec>, string][] = [
    [{ accel: 'hvf' as 'kvm' }, 'machine: accel "hvf" is invalid: expected "kvm" or "tcg"'],
    [{ memMiB: 8 }, 'machine: memMiB "8" is invalid: expected an integer from 16 to 1048576'],
    [{ memMiB: 512.5 }, 'machine: memMiB "512.5" is invalid: expected an integer from 16 to 1048576'],
    [{ cpus: 0 }, 'machine: cpus "0" is invalid: expected an integer from 1 to 255'],
    [{ kernel: 'vmlinuz' }, 'machine: kernel "vmlinuz" is invalid: expected an absolute path without NUL bytes'],
    [{ initrd: '' }, 'machine: initrd "" is invalid: expected an absolute path without NUL bytes'],
    [{ append: 'a\0b' }, 'machine: append "a\\u0000b" is invalid: expected a string without NUL bytes'],
    [{ qmpSocket: `/${'q'.repeat(120)}` }, `machine: qmpSocket "/${'q'.repeat(120)}" is invalid: expected a unix socket path of at most 107 bytes`],
    [{ serialLog: 'serial.log' }, 'machine: serialLog "serial.log" is invalid: expected an absolute path without NUL bytes'],
  ];
  for (const [over, message] of bad) {
    const r = renderMachineArgs({ ...spec, ...over });
    t.true(E.isLeft(r), message);
    if (E.isLeft(r)) t.is(describeArgsError(r.left), message);
  }
});

test('renderQemuArgv: machine then NICs; a vhost-user NIC turns shared memory on and, under the machine\'s TCG, INTx', (t) => {
  const { needsSharedMemory: _, ...machine } = spec;
  const r = renderQemuArgv({
    machine,
    nics: [
      { kind: 'tap', id: 'net0', mac: '52:54:00:00:00:01', mtu: 1500, queueFds: [3], vhostFds: [] },
      { kind: 'vhost-user', id: 'vu0', mac: '52:54:00:00:00:02', socket: '/run/vu.sock', queues: 1 },
    ],
  });
  t.deepEqual(
    r,
    E.right([
      '-nodefaults', '-no-user-config', '-display', 'none',
      '-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', '512M',
      '-object', 'memory-backend-memfd,id=mem,size=512M,share=on',
      '-numa', 'node,memdev=mem',
      ...tail,
      '-netdev', 'tap,id=net0,fd=3,vhost=off',
      '-device', 'virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01,romfile=',
      '-chardev', 'socket,id=chr-vu0,path=/run/vu.sock',
      '-netdev', 'vhost-user,id=vu0,chardev=chr-vu0',
      '-device', 'virtio-net-pci,netdev=vu0,mac=52:54:00:00:00:02,romfile=,vectors=0',
    ]),
  );
});

test('renderQemuArgv: shared memory once for several vhost-user NICs, off without them unless asked', (t) => {
  const count = (a: E.Either<unknown, string[]>): number => (E.isRight(a) ? a.right.filter((x) => x === '-object').length : -1);
  const vu = (id: string, mac: string) => ({ kind: 'vhost-user' as const, id, mac, socket: `/run/${id}.sock`, queues: 2 });
  t.is(count(renderQemuArgv({ machine: spec, nics: [vu('a', '52:54:00:00:00:01'), vu('b', '52:54:00:00:00:02')] })), 1);
  t.is(count(renderQemuArgv({ machine: spec, nics: [] })), 0);
  t.is(count(renderQemuArgv({ machine: { ...spec, needsSharedMemory: true }, nics: [] })), 1);
});

test('renderQemuArgv renders the NICs for the machine\'s accelerator', (t) => {
  const nics = [{ kind: 'vhost-user' as const, id: 'vu0', mac: '52:54:00:00:00:02', socket: '/run/vu.sock', queues: 2 }];
  const device = (accel: 'kvm' | 'tcg'): string | undefined => {
    const r = renderQemuArgv({ machine: { ...spec, accel }, nics });
    return E.isRight(r) ? r.right[r.right.length - 1] : undefined;
  };
  t.is(device('kvm'), 'virtio-net-pci,netdev=vu0,mac=52:54:00:00:00:02,romfile=,mq=on,vectors=6');
  t.is(device('tcg'), 'virtio-net-pci,netdev=vu0,mac=52:54:00:00:00:02,romfile=,mq=on,vectors=0');
});

test('renderQemuArgv reports the machine error before NIC errors', (t) => {
  const r = renderQemuArgv({ machine: { ...spec, cpus: 0 }, nics: [{ kind: 'vfio', id: 'x', bdf: '0000:03:00.0', boundDriver: 'ixgbe' }] });
  t.true(E.isLeft(r) && r.left._tag === 'InvalidValue' && r.left.field === 'cpus');
});

test('hotplug ports: pcie-root-ports 8 to a slot from 0x10, multifunction on function 0, unique chassis', (t) => {
  const r = renderMachineArgs({ ...spec, hotplugPorts: 9 });
  if (E.isLeft(r)) return t.fail(describeArgsError(r.left));
  const ports = r.right.filter((a) => a.startsWith('pcie-root-port'));
  t.is(ports.length, 9);
  t.is(ports[0], 'pcie-root-port,id=hp0,bus=pcie.0,chassis=1,addr=0x10.0x0,multifunction=on');
  t.is(ports[7], 'pcie-root-port,id=hp7,bus=pcie.0,chassis=8,addr=0x10.0x7');
  t.is(ports[8], 'pcie-root-port,id=hp8,bus=pcie.0,chassis=9,addr=0x11.0x0,multifunction=on');
  t.true(E.isLeft(renderMachineArgs({ ...spec, hotplugPorts: MAX_HOTPLUG_PORTS + 1 })));
  t.true(E.isLeft(renderMachineArgs({ ...spec, hotplugPorts: -1 })));
});

test('control channel: a virtio-serial port named tapwire.0 on a listening socket', (t) => {
  const r = renderMachineArgs({ ...spec, controlSocket: '/run/tapwire/vm0/control.sock' });
  t.deepEqual(
    r,
    E.right([
      ...(E.isRight(renderMachineArgs(spec)) ? (renderMachineArgs(spec) as E.Right<string[]>).right : []),
      '-device',
      'virtio-serial-pci,id=tapwire-vser',
      '-chardev',
      'socket,id=tapwire-ctl,path=/run/tapwire/vm0/control.sock,server=on,wait=off',
      '-device',
      'virtserialport,bus=tapwire-vser.0,chardev=tapwire-ctl,name=tapwire.0',
    ]),
  );
  t.true(E.isLeft(renderMachineArgs({ ...spec, controlSocket: 'relative.sock' })));
});

test('a second QMP monitor for other clients, after the runtime\'s own', (t) => {
  const r = renderMachineArgs({ ...spec, extraQmpSocket: '/run/tapwire/vm0/qmp-user.sock' });
  if (E.isLeft(r)) return t.fail(describeArgsError(r.left));
  const i = r.right.indexOf('chardev=qmp,mode=control');
  t.deepEqual(r.right.slice(i + 1, i + 5), ['-chardev', 'socket,id=qmp-extra,path=/run/tapwire/vm0/qmp-user.sock,server=on,wait=off', '-mon', 'chardev=qmp-extra,mode=control']);
});
