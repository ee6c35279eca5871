import test from 'ava';
import type { Endpoint, Snapshot } from '@tapwire/endpoints';
import type { Attachment } from './model.js';
import { attachedIfindexes, endpointsToAttach, networkOf, podAsAttached, usableEndpoints } from './attached-pod.js';

test('networkOf: the prefix route destination, as ip prints it', (t) => {
  t.is(networkOf({ family: 'inet', local: '10.91.7.2', prefixlen: 22, scope: 'global' }), '10.91.4.0/22');
  t.is(networkOf({ family: 'inet', local: '10.0.0.1', prefixlen: 32, scope: 'global' }), '10.0.0.1/32');
  t.is(networkOf({ family: 'inet6', local: 'fd00:1:2:3::5', prefixlen: 64, scope: 'global' }), 'fd00:1:2:3::/64');
  t.is(networkOf({ family: 'inet6', local: '2001:db8::1', prefixlen: 48, scope: 'global' }), '2001:db8::/48');
});

test('a macvtap-attached link gets its recorded addresses and routes back (and the kernel routes they imply)', (t) => {
  const link = (name: string, alias?: string) => ({ name, addresses: [], alias }) as unknown as Snapshot['links'][number];
  const snap = {
    links: [link('eth0'), link('tw2', 'tapwire:1,macvtap,2,2,ce:56:d3:d9:49:ce,10.91.0.2/24;fe80::1/64+scope+link,0.0.0.0/0+via+10.91.0.1+scope+global')],
    routes: [],
  } as unknown as Snapshot;
  const a: Attachment = { link: 'eth0', model: 'macvtap', tapName: 'tw2', queues: 2, multiQueue: true, guestMac: 'ce:56:d3:d9:49:ce', mtu: 1500, device: 'macvtap', existing: true };
  const pod = podAsAttached(snap, [a]);
  t.deepEqual(pod.links.find((l) => l.name === 'eth0')?.addresses, [
    { family: 'inet', local: '10.91.0.2', prefixlen: 24, scope: 'global' },
    { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
  ]);
  t.deepEqual(
    pod.routes.map((r) => [r.dst, r.dev, r.gateway, r.protocol, r.metric]),
    [
      ['10.91.0.0/24', 'eth0', undefined, 'kernel', undefined],
      ['fe80::/64', 'eth0', undefined, 'kernel', 256],
      ['default', 'eth0', '10.91.0.1', undefined, undefined],
    ],
  );
  t.is(podAsAttached(snap, [{ ...a, existing: false }]), snap, 'a fresh attachment: the scan (taken before it) is right as is');
});

test('an endpoint skipped only because its link is attached gets its NIC back; the rest as scanned', (t) => {
  const ep = (name: string, ifindex: number, skipped?: string, kind = 'veth') => ({ kind, link: { name, ifindex }, ...(skipped === undefined ? {} : { skipped }) }) as unknown as Endpoint;
  const endpoints = [ep('lo', 1, 'loopback', 'loopback'), ep('eth0', 2, 'no addresses'), ep('eth1', 3), ep('eth2', 4, 'no addresses')];
  const a: Attachment = { link: 'eth0', model: 'macvtap', tapName: 'tw2', queues: 1, multiQueue: false, guestMac: 'ce:56:d3:d9:49:ce', mtu: 1500, device: 'macvtap', existing: true };
  const usable = usableEndpoints(endpoints, [a]);
  t.deepEqual(usable.map((e) => [e.link.name, e.skipped]), [['eth0', undefined], ['eth1', undefined]]);
  t.deepEqual([...attachedIfindexes([{ alias: 'tapwire:1,macvtap,2,1,ce:56:d3:d9:49:ce,,' }, { alias: undefined }, { alias: 'something else' }])], [2]);
  t.deepEqual(endpointsToAttach(endpoints, new Set([2])).map((e) => e.link.name), ['eth0', 'eth1']);
});
