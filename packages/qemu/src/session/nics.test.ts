// The pure NIC decisions of a launch: vCPUs for the queues, which NICs lose
// MSI-X under TCG, and the notes that tell the user so.
import test from 'ava';
import type { NicSpec } from '@tapwire/vm';
import { interruptNote, MAX_VCPUS, queueNotes, vcpusFor } from './nics.js';

const vhostUser = (queues: number, link = 'vu0', id = 'net0'): NicSpec => ({
  id,
  link,
  mac: '52:54:00:12:34:57',
  mtu: 1500,
  queues,
  backend: { kind: 'vhost-user', socket: `/tmp/vhostuser_10.0.0.2/vhu.sock` },
});

const attached = (queues: number, link = 'eth0', id = 'net0'): NicSpec => ({
  id,
  link,
  mac: '52:54:00:12:34:56',
  mtu: 1450,
  queues,
  backend: { kind: 'tap', device: `tw-${link}`, ifindex: 0, multiQueue: queues > 1, vnetHdr: true },
});

test('one vCPU per queue of the widest NIC, vhost-user queues included', (t) => {
  t.is(vcpusFor([]), 1);
  t.is(vcpusFor([vhostUser(1)]), 1);
  t.is(vcpusFor([vhostUser(2)]), 2, 'a two-queue vhost-user NIC alone gets both its queues');
  t.is(vcpusFor([attached(1), vhostUser(3, 'vu0', 'net1')]), 3);
  t.is(vcpusFor([attached(2), vhostUser(1, 'vu0', 'net1')]), 2);
  t.is(vcpusFor([vhostUser(16)]), MAX_VCPUS);
});

test('a NIC with more queues than vCPUs is named in a note; none otherwise', (t) => {
  t.deepEqual(queueNotes([attached(2), vhostUser(2, 'vu0', 'net1')]), []);
  t.deepEqual(queueNotes([attached(1), vhostUser(8, 'vu0', 'net1')]), [`net1 (vu0) has 8 queues; the guest enables ${MAX_VCPUS}, one per vCPU (at most ${MAX_VCPUS})`]);
});

test('under TCG the vhost-user NICs (and vhost-net ones) are noted as INTx; under KVM nothing is', (t) => {
  const nics = [attached(1), vhostUser(1, 'vu0', 'net1'), vhostUser(2, 'vu1', 'net2')];
  t.regex(interruptNote(nics, 'tcg', false) ?? '', /^net1, net2: legacy INTx instead of MSI-X \(vectors=0\) under TCG/);
  t.regex(interruptNote(nics, 'tcg', true) ?? '', /^net0, net1, net2: /);
  t.is(interruptNote(nics, 'kvm', true), undefined);
  t.is(interruptNote([attached(2)], 'tcg', false), undefined);
});
