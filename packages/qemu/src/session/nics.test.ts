// The pure NIC decisions of a launch: vCPUs for the queues, which NICs lose
// MSI-X under TCG, and the notes that tell the user so.
import test from 'ava';
import type { Endpoint } from '@tapwire/endpoints';
import { testLink } from '@tapwire/endpoints/testing';
import type { Attachment } from '@tapwire/netmodel';
import { interruptNote, MAX_VCPUS, queueNotes, vcpusFor, vmNicsOf, type VmNic } from './nics.js';

const vhostUser = (queues: number, name = 'vu0'): VmNic => ({
  kind: 'vhost-user',
  endpoint: { kind: 'vhost-user', socket: `/tmp/vhostuser_10.0.0.2/vhu.sock`, reason: 'test', link: testLink({ name }), skipped: undefined },
  queues,
});

const attachment = (queues: number, link = 'eth0'): Attachment => ({
  link,
  model: 'tcfilter',
  tapName: `tw-${link}`,
  queues,
  multiQueue: queues > 1,
  guestMac: '52:54:00:12:34:56',
  mtu: 1450,
  device: 'tap',
});

const attached = (queues: number, name = 'eth0'): VmNic => ({
  kind: 'attached',
  endpoint: { kind: 'veth', reason: 'test', link: testLink({ name }), skipped: undefined } as Endpoint,
  attachment: attachment(queues, name),
});

test('one vCPU per queue of the widest NIC, vhost-user queues included', (t) => {
  t.is(vcpusFor([]), 1);
  t.is(vcpusFor([vhostUser(1)]), 1);
  t.is(vcpusFor([vhostUser(2)]), 2, 'a two-queue vhost-user NIC alone gets both its queues');
  t.is(vcpusFor([attached(1), vhostUser(3)]), 3);
  t.is(vcpusFor([attached(2), vhostUser(1)]), 2);
  t.is(vcpusFor([vhostUser(16)]), MAX_VCPUS);
});

test('a NIC with more queues than vCPUs is named in a note; none otherwise', (t) => {
  t.deepEqual(queueNotes([attached(2), vhostUser(2, 'vu0')]), []);
  t.deepEqual(queueNotes([attached(1), vhostUser(8, 'vu0')]), [`net1 (vu0) has 8 queues; the guest enables ${MAX_VCPUS}, one per vCPU (at most ${MAX_VCPUS})`]);
});

test('under TCG the vhost-user NICs (and vhost-net ones) are noted as INTx; under KVM nothing is', (t) => {
  const nics = [attached(1), vhostUser(1, 'vu0'), vhostUser(2, 'vu1')];
  t.regex(interruptNote(nics, 'tcg', false) ?? '', /^net1, net2: legacy INTx instead of MSI-X \(vectors=0\) under TCG/);
  t.regex(interruptNote(nics, 'tcg', true) ?? '', /^net0, net1, net2: /);
  t.is(interruptNote(nics, 'kvm', true), undefined);
  t.is(interruptNote([attached(2)], 'tcg', false), undefined);
});

test('vmNicsOf: vhost-user endpoints get the launch queues, skipped ones and unattached links nothing', (t) => {
  const vu: Endpoint = { kind: 'vhost-user', socket: '/tmp/vhostuser_10.0.0.3/vhu.sock', reason: 'test', link: testLink({ name: 'vu0' }), skipped: undefined };
  const veth = { kind: 'veth', reason: 'test', link: testLink({ name: 'eth0' }), skipped: undefined } as Endpoint;
  const lost = { kind: 'veth', reason: 'test', link: testLink({ name: 'eth1' }), skipped: undefined } as Endpoint;
  const lo = { kind: 'loopback', reason: 'test', link: testLink({ name: 'lo' }), skipped: 'loopback' } as Endpoint;
  const nics = vmNicsOf([lo, vu, veth, lost], [attachment(2, 'eth0')], 2);
  t.deepEqual(
    nics.map((n) => [n.kind, n.endpoint.link.name]),
    [
      ['vhost-user', 'vu0'],
      ['attached', 'eth0'],
    ],
  );
  t.is(nics[0]?.kind === 'vhost-user' ? nics[0].queues : 0, 2);
});
