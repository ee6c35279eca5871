// What plug sends QEMU, without a QEMU: netdev_add and device_add arguments
// for each kind of NIC, the same choices render-nic.ts makes at boot.
import test from 'ava';
import { deviceArgs, netdevArgs, type HotNic } from './plug.js';

const tap = (queues: number, vhost: boolean, mtu = 1500): HotNic => ({
  kind: 'tap',
  id: 'hot1',
  mac: '02:00:00:00:00:01',
  mtu,
  queueFds: Array.from({ length: queues }, (_, i) => 10 + i),
  vhostFds: vhost ? Array.from({ length: queues }, (_, i) => 20 + i) : [],
});

test('a one-queue tap: fd= by name, vhost off, no mq', (t) => {
  t.deepEqual(netdevArgs(tap(1, false)), { type: 'tap', id: 'hot1', fd: 'hot1-q0', vhost: false });
  t.deepEqual(deviceArgs(tap(1, false), 'hp0', 'tcg'), { driver: 'virtio-net-pci', id: 'hot1', netdev: 'hot1', mac: '02:00:00:00:00:01', bus: 'hp0', romfile: '' });
});

test('a multi-queue tap: fds= joined by colons, mq on, one MSI-X vector per queue and two more', (t) => {
  t.deepEqual(netdevArgs(tap(2, false)), { type: 'tap', id: 'hot1', fds: 'hot1-q0:hot1-q1', vhost: false });
  t.like(deviceArgs(tap(2, false), 'hp1', 'kvm'), { mq: true, vectors: 6, bus: 'hp1' });
});

test('vhost-net: vhostfds by name; under TCG the device falls back to INTx (vectors=0)', (t) => {
  t.deepEqual(netdevArgs(tap(2, true)), { type: 'tap', id: 'hot1', fds: 'hot1-q0:hot1-q1', vhost: true, vhostfds: 'hot1-v0:hot1-v1' });
  t.deepEqual(netdevArgs(tap(1, true)), { type: 'tap', id: 'hot1', fd: 'hot1-q0', vhost: true, vhostfd: 'hot1-v0' });
  t.like(deviceArgs(tap(2, true), 'hp0', 'tcg'), { mq: true, vectors: 0 });
  t.like(deviceArgs(tap(2, true), 'hp0', 'kvm'), { mq: true, vectors: 6 });
});

test('the MTU goes to the guest as host_mtu when it is not 1500', (t) => {
  t.like(deviceArgs(tap(1, false, 1400), 'hp0', 'tcg'), { host_mtu: 1400 });
  t.false('host_mtu' in deviceArgs(tap(1, false), 'hp0', 'tcg'));
});

test('vhost-user: a chardev per NIC, queues when more than one, INTx under TCG', (t) => {
  const nic: HotNic = { kind: 'vhost-user', id: 'vu0', mac: '02:00:00:00:00:02', socket: '/run/x.sock', queues: 2 };
  t.deepEqual(netdevArgs(nic), { type: 'vhost-user', id: 'vu0', chardev: 'chr-vu0', queues: 2 });
  t.like(deviceArgs(nic, 'hp0', 'tcg'), { mq: true, vectors: 0, netdev: 'vu0' });
});
