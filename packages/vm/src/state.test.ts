// The saved NIC state: any state round-trips through its JSON text, bad text
// is refused by name, and drift is found field by field.
import test from 'ava';
import * as fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { MODELS } from '@tapwire/netmodel';
import type { NicBackend, NicSpec } from './nic.js';
import { decodeNicState, encodeNicState, NIC_STATE_VERSION, nicStateDrift, type NicState } from './state.js';

const name = fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/);
const mac = fc.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/);
const backend: fc.Arbitrary<NicBackend> = fc.oneof(
  fc.record({ kind: fc.constant('tap' as const), device: name, ifindex: fc.nat(), multiQueue: fc.boolean(), vnetHdr: fc.boolean() }),
  fc.record({ kind: fc.constant('macvtap' as const), device: name, ifindex: fc.nat() }),
  fc.record({ kind: fc.constant('vhost-user' as const), socket: fc.string() }),
  fc.record({ kind: fc.constant('vfio' as const), bdf: fc.string(), boundDriver: fc.option(fc.string(), { nil: undefined }) }),
);
const nic: fc.Arbitrary<NicSpec> = fc.record(
  { id: name, link: name, mac, mtu: fc.integer({ min: 68, max: 65535 }), queues: fc.integer({ min: 1, max: 256 }), backend, pciAddress: fc.stringMatching(/^0000:0[0-9]:[01][0-9a-f]\.[0-7]$/) },
  { requiredKeys: ['id', 'link', 'mac', 'mtu', 'queues', 'backend'] },
);
const attachment = fc.record(
  {
    link: name,
    model: fc.constantFrom(...MODELS),
    tapName: name,
    queues: fc.integer({ min: 1, max: 256 }),
    multiQueue: fc.boolean(),
    guestMac: mac,
    mtu: fc.integer({ min: 68, max: 65535 }),
    device: fc.constantFrom('tap' as const, 'macvtap' as const),
    existing: fc.boolean(),
  },
  { requiredKeys: ['link', 'model', 'tapName', 'queues', 'multiQueue', 'guestMac', 'mtu', 'device'] },
);
const state: fc.Arbitrary<NicState> = fc.record(
  {
    version: fc.constant(NIC_STATE_VERSION),
    netns: fc.string(),
    attachments: fc.array(attachment, { maxLength: 4 }),
    nics: fc.array(nic, { maxLength: 4 }),
    vm: fc.record({ pid: fc.nat(), qmpSocket: fc.string() }, { requiredKeys: ['pid'] }),
  },
  { requiredKeys: ['version', 'netns', 'attachments', 'nics'] },
);

/** What JSON keeps: an undefined field is left out, as the text has it. */
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

test('any NIC state round-trips through its text', (t) => {
  fc.assert(
    fc.property(state, (s) => {
      const back = decodeNicState(encodeNicState(s), 'test');
      return E.isRight(back) && JSON.stringify(asJson(back.right)) === JSON.stringify(asJson(s));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('bad state is refused with where it came from and what was wrong', (t) => {
  const r = decodeNicState('{"version":2,"netns":"x","attachments":[],"nics":[]}', '/var/lib/rt/vm1.json');
  t.true(E.isLeft(r));
  if (E.isRight(r)) return;
  t.like(r.left, { _tag: 'BadState', source: '/var/lib/rt/vm1.json' });
  t.true(r.left._tag === 'BadState' && r.left.problems.some((p) => p.includes('version')), JSON.stringify(r.left));
  const notJson = decodeNicState('{', 'stdin');
  t.true(E.isLeft(notJson) && notJson.left._tag === 'BadState' && notJson.left.problems[0]?.startsWith('not JSON') === true);
  const badNic = decodeNicState(JSON.stringify({ version: 1, netns: 'x', attachments: [], nics: [{ id: 'net0', link: 'eth0', mac: '', mtu: 1500, queues: 1, backend: { kind: 'ipvlan' } }] }), 'f');
  t.true(E.isLeft(badNic));
});

const saved: NicState = {
  version: 1,
  netns: 'pod',
  attachments: [{ link: 'eth0', model: 'tcfilter', tapName: 'tw2', queues: 1, multiQueue: false, guestMac: '52:54:00:00:00:01', mtu: 1500, device: 'tap' }],
  nics: [{ id: 'net0', link: 'eth0', mac: '52:54:00:00:00:01', mtu: 1500, queues: 1, pciAddress: '0000:00:03.0', backend: { kind: 'tap', device: 'tw2', ifindex: 7, multiQueue: false, vnetHdr: true } }],
};
const pci = [{ address: '0000:00:03.0', deviceId: 'net0', vendor: 0x1af4, device: 0x1000 }];

test('drift: none when all is as saved; each difference named', (t) => {
  t.deepEqual(nicStateDrift(saved, { devices: new Map([['tw2', 7]]), findings: new Map([['tw2', []]]), pci }), []);
  t.deepEqual(
    nicStateDrift(saved, { devices: new Map(), findings: new Map(), pci: [] }).map((d) => d._tag),
    ['AttachmentDrift', 'DeviceGone', 'NicNotInVm'],
  );
  t.deepEqual(
    nicStateDrift(saved, { devices: new Map([['tw2', 9]]), findings: new Map([['tw2', []]]), pci: [{ ...pci[0]!, address: '0000:00:04.0' }] }).map((d) => d._tag),
    ['IfindexChanged', 'PciAddressChanged'],
  );
  t.deepEqual(nicStateDrift(saved, { devices: new Map([['tw2', 7]]), findings: new Map([['tw2', []]]), pci: undefined }), [], 'no VM given: the VM is not checked');
});
