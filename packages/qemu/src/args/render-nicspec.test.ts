// The renderer takes @tapwire/vm's NicSpec with the child's fd numbers: the
// same arguments as the flat forms, plus the device id (the NIC's id, which
// query-pci reports as qdev_id and device_del takes).
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import type { NicSpec } from '@tapwire/vm';
import { renderNicArgs } from './render-nic.js';

const base = { link: 'eth0', mac: '52:54:00:12:34:56', mtu: 1500, queues: 2 };
const tap: NicSpec = { ...base, id: 'net0', backend: { kind: 'tap', device: 'tw2', ifindex: 5, multiQueue: true, vnetHdr: true } };

test('a tap NicSpec with its fd numbers renders fds= and a device with its id', (t) => {
  t.deepEqual(renderNicArgs([{ spec: tap, fds: { queueFds: [3, 4], vhostFds: [] } }], 'kvm'), E.right([
    '-netdev', 'tap,id=net0,fds=3:4,vhost=off',
    '-device', 'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,mq=on,vectors=6,id=net0',
  ]));
});

test('vhost-user and vfio NicSpecs need no fds; a tap without fds is refused by name', (t) => {
  const vu: NicSpec = { ...base, id: 'net1', mac: '52:54:00:12:34:57', backend: { kind: 'vhost-user', socket: '/run/vu.sock' } };
  const vf: NicSpec = { ...base, id: 'net2', mac: '', queues: 1, backend: { kind: 'vfio', bdf: '0000:03:00.0', boundDriver: 'vfio-pci' } };
  const r = renderNicArgs([{ spec: vu }, { spec: vf }], 'tcg');
  t.true(E.isRight(r));
  if (E.isRight(r)) {
    t.true(r.right.includes('vhost-user,id=net1,chardev=chr-net1,queues=2'));
    t.true(r.right.includes('virtio-net-pci,netdev=net1,mac=52:54:00:12:34:57,romfile=,mq=on,vectors=0,id=net1'));
    t.true(r.right.includes('vfio-pci,host=0000:03:00.0,id=net2'));
  }
  t.like(renderNicArgs([{ spec: tap }], 'tcg'), { left: { _tag: 'InvalidValue', subject: 'nic "net0"', field: 'queue fd count' } });
});
