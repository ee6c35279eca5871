// Golden tests of the pure planner: exact command lines, errors by kind.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import type { Endpoint, Link, Route } from '@tapwire/endpoints';
import { testLink as link } from '@tapwire/endpoints/testing';
import { describeNetmodelError } from './errors.js';
import { MAX_ALIAS_BYTES, type Model } from './model.js';
import { parseQueues, validateTapName } from './names.js';
import { parseTapId } from './ownership.js';
import { lentMac, plan, type PlanOptions } from './plan.js';
import { decodeRecord } from './record.js';
import { renderPlan, renderUndo } from './render.js';

const endpoint = (kind: Endpoint['kind'], over: Partial<Link> = {}, skipped?: string): Endpoint =>
  ({ kind, link: link(over), reason: 'test', skipped, multiQueue: false, vnetHdr: true, linkKind: 'x', pci: undefined, socket: '/s' }) as unknown as Endpoint;

const planned = (e: Endpoint, model: Model, opts: PlanOptions = {}) => {
  const p = plan(e, model, opts);
  if (E.isLeft(p)) throw new Error(`unexpected ${JSON.stringify(p.left)}`);
  return p.right;
};

// By default a tap is owned by this process's euid/egid (ownership.ts).
const ME = `user ${process.geteuid?.() ?? '?'} group ${process.getegid?.() ?? '?'}`;

test('tcfilter: exact command lines and inverse', (t) => {
  const p = planned(endpoint('veth'), 'tcfilter');
  t.deepEqual(renderPlan(p), [
    `ip tuntap add dev tw7 mode tap vnet_hdr ${ME}`,
    'ip link set dev tw7 alias tapwire:1,tcfilter,7,1,52:54:00:12:34:56',
    'ip link set dev tw7 mtu 1450',
    'tc qdisc add dev tw7 root handle 1: noqueue',
    'tc qdisc add dev eth0 ingress',
    'tc qdisc add dev tw7 ingress',
    'tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tw7',
    'tc filter add dev tw7 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev eth0',
    'ip link set dev tw7 up',
  ]);
  t.deepEqual(renderUndo(p), [
    'tc filter del dev tw7 parent ffff:',
    'tc filter del dev eth0 parent ffff:',
    'tc qdisc del dev tw7 ingress',
    'tc qdisc del dev eth0 ingress',
    'ip link del dev tw7',
  ]);
  t.like(p, { tapName: 'tw7', queues: 1, multiQueue: false, guestMac: '52:54:00:12:34:56', mtu: 1450, device: 'tap' });
});

test('tcfilter: queues > 1 makes a multi-queue tap; the tap name override is used', (t) => {
  const p = planned(endpoint('macvlan'), 'tcfilter', { queues: 4, tapName: 'vm0' });
  t.is(renderPlan(p)[0], `ip tuntap add dev vm0 mode tap vnet_hdr multi_queue ${ME}`);
  t.like(p, { tapName: 'vm0', queues: 4, multiQueue: true });
});

test('macvtap: exact command lines, addresses and routes recorded in the alias', (t) => {
  const routes: Route[] = [
    { dst: 'default', gateway: '10.0.0.1', dev: 'eth0', table: undefined, type: undefined, protocol: undefined, scope: undefined, prefsrc: undefined, metric: undefined, family: 'inet' },
    { dst: '10.0.0.0/24', gateway: undefined, dev: 'eth0', table: undefined, type: undefined, protocol: 'kernel', scope: 'link', prefsrc: '10.0.0.2', metric: undefined, family: 'inet' },
    { dst: '10.0.0.2', gateway: undefined, dev: 'eth0', table: 'local', type: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.0.0.2', metric: undefined, family: 'inet' },
  ];
  const e = endpoint('veth', {
    addresses: [
      { family: 'inet', local: '10.0.0.2', prefixlen: 24, scope: 'global', broadcast: '10.0.0.255' },
      { family: 'inet6', local: 'fd00::2', prefixlen: 64, scope: 'global' },
    ],
  });
  const p = planned(e, 'macvtap', { routes });
  const lent = lentMac('52:54:00:12:34:56');
  const alias = 'tapwire:1,macvtap,7,1,52:54:00:12:34:56,10.0.0.2/24+broadcast+10.0.0.255;fd00::2/64,0.0.0.0/0+via+10.0.0.1';
  t.deepEqual(renderPlan(p), [
    'ip link add link eth0 name tw7 type macvtap mode bridge',
    `ip link set dev tw7 alias '${alias}'`,
    'ip link set dev tw7 mtu 1450',
    'ip link set dev tw7 txqueuelen 1000',
    'ip route del 0.0.0.0/0 via 10.0.0.1 dev eth0',
    'ip addr del fd00::2/64 dev eth0',
    'ip addr del 10.0.0.2/24 dev eth0',
    `ip link set dev eth0 address ${lent}`,
    'ip link set dev tw7 address 52:54:00:12:34:56',
    'ip link set dev tw7 up',
  ]);
  t.deepEqual(renderUndo(p), [
    'ip link set dev tw7 down',
    'ip link set dev eth0 address 52:54:00:12:34:56',
    'ip addr add 10.0.0.2/24 broadcast 10.0.0.255 dev eth0',
    'ip addr add fd00::2/64 nodad dev eth0',
    'ip route replace 0.0.0.0/0 via 10.0.0.1 dev eth0',
    'ip link del dev tw7',
  ]);
  t.is(p.alias, alias);
  t.like(decodeRecord(alias), { _tag: 'Right', right: { model: 'macvtap', ifindex: 7, routes: [['0.0.0.0/0', 'via', '10.0.0.1']] } });
  t.like(p, { device: 'macvtap', guestMac: '52:54:00:12:34:56' });
});

test('lentMac is locally administered, unicast, and not the original', (t) => {
  for (const mac of ['52:54:00:12:34:56', '02:00:00:00:00:01', 'ff:ff:ff:ff:ff:fe']) {
    const m = lentMac(mac);
    const b0 = parseInt(m.slice(0, 2), 16);
    t.is(b0 & 0x03, 0x02);
    t.not(m, mac);
    t.regex(m, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  }
});

test('macvtap: a restore record over IFALIASZ is refused before anything changes', (t) => {
  const addresses = Array.from({ length: 20 }, (_, i) => ({ family: 'inet' as const, local: `10.0.${i}.2`, prefixlen: 24, scope: 'global' }));
  const p = plan(endpoint('veth', { addresses }), 'macvtap');
  t.like(p, { _tag: 'Left', left: { _tag: 'AliasTooLong', max: MAX_ALIAS_BYTES } });
});

test('none: empty plan for a tap handed over as is', (t) => {
  const p = planned(endpoint('tap', { name: 'vmtap', kind: 'tun' }), 'none');
  t.deepEqual(renderPlan(p), []);
  t.like(p, { tapName: 'vmtap', device: 'tap', queues: 1 });
  t.like(plan(endpoint('tap', { kind: 'tun' }), 'none', { queues: 2 }), { _tag: 'Left', left: { _tag: 'QueuesNotSupported' } });
  t.like(plan(endpoint('veth'), 'none'), { _tag: 'Left', left: { _tag: 'ModelNotSupported', supported: ['tcfilter', 'macvtap'] } });
});

test('models per kind', (t) => {
  t.like(plan(endpoint('ipvlan'), 'macvtap'), { _tag: 'Left', left: { _tag: 'ModelNotSupported', kind: 'ipvlan', supported: ['tcfilter'] } });
  t.like(plan(endpoint('vlan'), 'none'), { _tag: 'Left', left: { _tag: 'ModelNotSupported', kind: 'vlan' } });
  t.true(E.isRight(plan(endpoint('ipvlan'), 'tcfilter')));
  t.like(plan(endpoint('physical'), 'tcfilter'), { _tag: 'Left', left: { _tag: 'PassThroughOnly', kind: 'physical' } });
  t.like(plan(endpoint('vhost-user'), 'tcfilter'), { _tag: 'Left', left: { _tag: 'PassThroughOnly', kind: 'vhost-user' } });
  t.like(plan(endpoint('unsupported', {}, 'link kind "tun": tun mode'), 'tcfilter'), { _tag: 'Left', left: { _tag: 'NotAttachable', link: 'eth0', reason: 'link kind "tun": tun mode' } });
  t.like(plan(endpoint('loopback', { name: 'lo' }, 'loopback'), 'tcfilter'), { _tag: 'Left', left: { _tag: 'NotAttachable', link: 'lo' } });
  t.like(plan(endpoint('veth', {}, 'no addresses'), 'tcfilter'), { _tag: 'Left', left: { _tag: 'NotAttachable', reason: 'no addresses' } });
});

test('queues: 1..256; 0, 257, 1025 and junk are errors', (t) => {
  t.true(E.isRight(plan(endpoint('veth'), 'tcfilter', { queues: 256 })));
  for (const q of [0, 257, 1025, 1.5, -1, Number.NaN]) t.like(plan(endpoint('veth'), 'tcfilter', { queues: q }), { _tag: 'Left', left: { _tag: 'BadQueues' } });
  t.like(parseQueues('4'), { _tag: 'Right', right: 4 });
  for (const s of ['0', '1025', '4x', '', '0x4', '1e2']) t.like(parseQueues(s), { _tag: 'Left', left: { _tag: 'BadQueues' } });
});

test('tap names: 1-15 bytes, no / : or whitespace, not . or ..', (t) => {
  for (const ok of ['tw1', 'a', 'x'.repeat(15), 'vm;$(x)"é']) t.true(E.isRight(validateTapName(ok)), ok);
  for (const bad of ['', 'x'.repeat(16), 'a/b', 'a:b', 'a b', 'a\tb', '.', '..', 'é'.repeat(8)]) t.true(E.isLeft(validateTapName(bad)), bad);
  t.like(plan(endpoint('veth'), 'tcfilter', { tapName: 'eth0' }), { _tag: 'Left', left: { _tag: 'BadTapName' } });
});

test('render quotes names a shell would misread', (t) => {
  const p = planned(endpoint('veth', { name: `a;b'$(x)` }), 'tcfilter');
  t.is(renderPlan(p)[4], `tc qdisc add dev 'a;b'\\''$(x)' ingress`);
});

test('MTU: a tap takes 68..65521, a macvtap 68..65535; outside that plan refuses before anything changes', (t) => {
  t.like(plan(endpoint('veth', { mtu: 65535 }), 'tcfilter'), { _tag: 'Left', left: { _tag: 'MtuNotSupported', link: 'eth0', mtu: 65535, min: 68, max: 65521, device: 'tap' } });
  t.like(plan(endpoint('veth', { mtu: 65535 }), 'macvtap'), { _tag: 'Right', right: { mtu: 65535 } });
  t.like(plan(endpoint('veth', { mtu: 65521 }), 'tcfilter'), { _tag: 'Right' });
  t.like(plan(endpoint('veth', { mtu: 67 }), 'macvtap'), { _tag: 'Left', left: { _tag: 'MtuNotSupported', device: 'macvtap' } });
  const e = plan(endpoint('veth', { mtu: 65535 }), 'tcfilter');
  t.is(E.isLeft(e) ? describeNetmodelError(e.left) : '', 'link "eth0" has MTU 65535, but a tap takes 68 to 65521 (use model macvtap, or lower the link\'s MTU)');
});

test('tcfilter: owner and group go into the tap creation; other models and bad ids are refused', (t) => {
  const e = endpoint('veth');
  t.is(renderPlan(planned(e, 'tcfilter', { owner: 1000, group: 1001 }))[0], 'ip tuntap add dev tw7 mode tap vnet_hdr user 1000 group 1001');
  const bad = plan(e, 'tcfilter', { owner: -1 });
  t.true(E.isLeft(bad) && bad.left._tag === 'BadOwnership');
  const mv = plan(e, 'macvtap', { group: 5 });
  t.true(E.isLeft(mv) && mv.left._tag === 'BadOwnership');
});

test('tcfilter: a tap is owned by default (this process), a lone owner or group is taken as given, null opts out', (t) => {
  const e = endpoint('veth');
  const me = { owner: process.geteuid?.(), group: process.getegid?.() };
  t.like(planned(e, 'tcfilter'), me);
  // With both set the kernel wants both: a lone owner must not pull in a default group.
  t.like(planned(e, 'tcfilter', { owner: 1000 }), { owner: 1000, group: undefined });
  t.is(renderPlan(planned(e, 'tcfilter', { owner: 1000 }))[0], 'ip tuntap add dev tw7 mode tap vnet_hdr user 1000');
  t.is(renderPlan(planned(e, 'tcfilter', { group: 1001 }))[0], 'ip tuntap add dev tw7 mode tap vnet_hdr group 1001');
  t.is(renderPlan(planned(e, 'tcfilter', { owner: null, group: null }))[0], 'ip tuntap add dev tw7 mode tap vnet_hdr');
  // macvtap and none create no tap: no owner, and no default either.
  t.like(planned(e, 'macvtap'), { owner: undefined, group: undefined });
  t.deepEqual([parseTapId('owner', '65534'), parseTapId('group', 'none')], [E.right(65534), E.right(null)]);
  const bad = parseTapId('owner', 'nobody');
  t.is(E.isLeft(bad) ? describeNetmodelError(bad.left) : '', 'bad tap owner "nobody": expected a uid/gid from 0 to 4294967294, or none');
});

test('tcfilter on a link with txqueuelen 0: recorded and restored (an ingress qdisc raises it to 1000); older records still decode', (t) => {
  const p = planned(endpoint('veth', { txqlen: undefined }), 'tcfilter', { owner: null, group: null });
  t.is(p.alias, 'tapwire:1,tcfilter,7,1,52:54:00:12:34:56,,,0');
  t.true(renderPlan(p).includes('ip link set dev eth0 txqueuelen 0'));
  t.true(renderUndo(p).indexOf('ip link set dev eth0 txqueuelen 0') > renderUndo(p).indexOf('tc qdisc del dev eth0 ingress'));
  t.like(decodeRecord('tapwire:1,tcfilter,7,1,52:54:00:12:34:56'), { _tag: 'Right', right: { txqlen: undefined } });
  t.true(E.isLeft(decodeRecord('tapwire:1,tcfilter,7,1,52:54:00:12:34:56,,,x')));
  t.is(planned(endpoint('veth'), 'tcfilter').alias, 'tapwire:1,tcfilter,7,1,52:54:00:12:34:56');
});
