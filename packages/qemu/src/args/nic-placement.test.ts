// Where cold-plugged NICs go on q35: pcie.0 while they fit, then one
// pcie-root-port each; the argv of a 48-NIC VM as golden strings.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import type { NicSpec } from '@tapwire/vm';
import { renderQemuArgv } from './argv.js';
import { nicPortId, placeNics } from './nic-placement.js';

test('NICs that fit on pcie.0 get no bus: the argv is as it always was', (t) => {
  t.deepEqual(placeNics(30, {}), E.right({ nicPorts: 0, buses: Array.from({ length: 30 }, () => undefined) }));
  t.deepEqual(E.map((p: { nicPorts: number }) => p.nicPorts)(placeNics(29, { controlSocket: '/c' })), E.right(0));
});

test('past pcie.0, the last NICs get root ports: the fewest that leave room for the ports\' own slots', (t) => {
  // 30 slots - 1 (control) - 3 (22 ports) = 26 on pcie.0.
  const p = placeNics(48, { controlSocket: '/c' });
  t.true(E.isRight(p));
  if (E.isLeft(p)) return;
  t.is(p.right.nicPorts, 22);
  t.deepEqual(p.right.buses.slice(0, 26), Array.from({ length: 26 }, () => undefined));
  t.deepEqual(p.right.buses.slice(26), Array.from({ length: 22 }, (_, i) => nicPortId(i)));
  // One over 30 without control: 1 port takes a slot, so 2 NICs move.
  t.like(placeNics(31, {}), { right: { nicPorts: 2 } });
  // Hotplug ports' slots count too.
  t.like(placeNics(30, { hotplugPorts: 8 }), { right: { nicPorts: 2 } });
});

test('more NICs than q35 can hold is refused naming the count', (t) => {
  t.like(placeNics(1000, {}), { left: { _tag: 'InvalidValue', subject: 'machine', field: 'NIC count', input: '1000' } });
  t.true(E.isRight(placeNics(15 + 15 * 8, {})));
  t.true(E.isLeft(placeNics(15 + 15 * 8 + 1, {})));
});

const machine = {
  accel: 'tcg' as const,
  memMiB: 256,
  cpus: 1,
  kernel: '/k',
  initrd: undefined,
  append: '',
  qmpSocket: '/run/q.sock',
  serialLog: '/run/s.log',
  controlSocket: '/run/c.sock',
};
const tapNic = (i: number): NicSpec => ({
  id: `net${i}`,
  link: `eth${i}`,
  mac: `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`,
  mtu: 1500,
  queues: 1,
  backend: { kind: 'tap', device: `tw${i}`, ifindex: 10 + i, multiQueue: false, vnetHdr: true },
});

test('48 NICs: 22 pcie-root-ports from slot 0x10, 8 to a slot, and the last 22 NICs on them by bus=', (t) => {
  const nics = Array.from({ length: 48 }, (_, i) => ({ spec: tapNic(i), fds: { queueFds: [3 + i], vhostFds: [] } }));
  const argv = renderQemuArgv({ machine, nics });
  t.true(E.isRight(argv));
  if (E.isLeft(argv)) return;
  const ports = argv.right.filter((a) => a.startsWith('pcie-root-port,'));
  t.is(ports.length, 22);
  t.is(ports[0], 'pcie-root-port,id=nicp0,bus=pcie.0,chassis=1,addr=0x10.0x0,multifunction=on');
  t.is(ports[7], 'pcie-root-port,id=nicp7,bus=pcie.0,chassis=8,addr=0x10.0x7');
  t.is(ports[8], 'pcie-root-port,id=nicp8,bus=pcie.0,chassis=9,addr=0x11.0x0,multifunction=on');
  t.is(ports[21], 'pcie-root-port,id=nicp21,bus=pcie.0,chassis=22,addr=0x12.0x5');
  const devices = argv.right.filter((a) => a.startsWith('virtio-net-pci,'));
  t.is(devices[25], 'virtio-net-pci,netdev=net25,mac=52:54:00:00:01:19,romfile=,id=net25');
  t.is(devices[26], 'virtio-net-pci,netdev=net26,mac=52:54:00:00:01:1a,romfile=,id=net26,bus=nicp0');
  t.is(devices[47], 'virtio-net-pci,netdev=net47,mac=52:54:00:00:01:2f,romfile=,id=net47,bus=nicp21');
});

test('NIC ports follow the hotplug ports: their slots and chassis numbers come after', (t) => {
  const nics = Array.from({ length: 30 }, (_, i) => ({ spec: tapNic(i), fds: { queueFds: [3 + i], vhostFds: [] } }));
  const argv = renderQemuArgv({ machine: { ...machine, hotplugPorts: 2 }, nics });
  t.true(E.isRight(argv));
  if (E.isLeft(argv)) return;
  const ports = argv.right.filter((a) => a.startsWith('pcie-root-port,'));
  t.deepEqual(ports, [
    'pcie-root-port,id=hp0,bus=pcie.0,chassis=1,addr=0x10.0x0,multifunction=on',
    'pcie-root-port,id=hp1,bus=pcie.0,chassis=2,addr=0x10.0x1',
    'pcie-root-port,id=nicp0,bus=pcie.0,chassis=3,addr=0x11.0x0,multifunction=on',
    'pcie-root-port,id=nicp1,bus=pcie.0,chassis=4,addr=0x11.0x1',
    'pcie-root-port,id=nicp2,bus=pcie.0,chassis=5,addr=0x11.0x2',
  ]);
});

test('a bus that is no QEMU id is refused naming the NIC and the field', (t) => {
  const argv = renderQemuArgv({ machine, nics: [{ spec: tapNic(0), fds: { queueFds: [3], vhostFds: [] }, bus: 'port,0' }] });
  t.like(argv, { left: { _tag: 'InvalidValue', subject: 'nic "net0"', field: 'bus', input: 'port,0' } });
});
