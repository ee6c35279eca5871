// check reports drift as typed findings, for both models.
import test from 'ava';
import { requireRoot, sh } from '@tapwire/testkit';
import { attach } from './attach.js';
import { check, detach } from './detach.js';
import { endpointOf, makeEndpoint, netnsFixture, right, stateOf } from './testing.js';

const tags = async (p: Promise<unknown>) => (await p as { _tag: string; right?: { findings: { _tag: string }[] }[] }).right?.flatMap((c) => c.findings.map((f) => f._tag)) ?? ['<error>'];

test('tcfilter drift: MTU, MAC, down tap, missing filter, missing tap', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const before = await stateOf(ns);
  const a = right(t, await attach(ns, await endpointOf(ns, 'ep0'), 'tcfilter')());
  t.deepEqual(await tags(check(ns)()), []);
  await sh(['ip', '-n', ns.spec, 'link', 'set', 'dev', 'ep0', 'mtu', '1400']);
  await sh(['ip', '-n', ns.spec, 'link', 'set', 'dev', 'ep0', 'address', '02:11:22:33:44:55']);
  await sh(['ip', '-n', ns.spec, 'link', 'set', 'dev', a.tapName, 'down']);
  await sh(['tc', '-n', ns.spec, 'filter', 'del', 'dev', a.tapName, 'parent', 'ffff:']);
  t.deepEqual((await tags(check(ns, 'ep0')())).sort(), ['DeviceDown', 'FilterMissing', 'MacChanged', 'MtuMismatch']);
  await sh(['ip', '-n', ns.spec, 'link', 'del', 'dev', a.tapName]);
  t.deepEqual(await tags(check(ns, a)()), ['DeviceMissing']);
  // The record went with the tap; detach still removes the link's ingress qdisc whose
  // filters redirect to nowhere, so the netns is as before (but for the MTU/MAC we changed).
  t.like(await detach(ns, a)(), { _tag: 'Right', right: { detached: [] } });
  t.deepEqual(right(t, await check(ns)()), []);
  await sh(['ip', '-n', ns.spec, 'link', 'set', 'dev', 'ep0', 'mtu', '1500']);
  const after = (await stateOf(ns)) as { qdiscs: unknown; filters: unknown };
  t.deepEqual(after.qdiscs, (before as typeof after).qdiscs);
  t.deepEqual(after.filters, (before as typeof after).filters);
});

test('macvtap drift: macvtap MAC changed, addresses back on the link', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const before = await stateOf(ns);
  const a = right(t, await attach(ns, await endpointOf(ns, 'ep0'), 'macvtap')());
  t.deepEqual(await tags(check(ns, 'ep0')()), []);
  await sh(['ip', '-n', ns.spec, 'link', 'set', 'dev', a.tapName, 'address', '02:11:22:33:44:66']);
  await sh(['ip', '-n', ns.spec, 'addr', 'add', '10.77.0.9/24', 'dev', 'ep0']);
  t.deepEqual((await tags(check(ns, a.tapName)())).sort(), ['AddressesOnLink', 'MacChanged']);
  await sh(['ip', '-n', ns.spec, 'addr', 'del', '10.77.0.9/24', 'dev', 'ep0']);
  right(t, await detach(ns, a)());
  t.deepEqual(await stateOf(ns), before);
});
