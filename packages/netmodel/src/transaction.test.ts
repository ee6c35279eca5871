// Fault injection at every step of every model's plan, with either executor:
// the netns is exactly as before afterwards. Plus the idempotence and refusal cases of attach/detach.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireRoot, sh } from '@tapwire/testkit';
import { attachAll } from './attach-all.js';
import { attach } from './attach.js';
import { check, detach, detachAll } from './detach.js';
import type { Executor } from './executor.js';
import type { Model } from './model.js';
import { plan } from './plan.js';
import { readNetns } from './state.js';
import { endpointOf, endpointsOf, ipIn, makeEndpoint, netnsFixture, right, SETUPS, stateOf } from './testing.js';

const MODELS_FOR_TEST: readonly Model[] = ['tcfilter', 'macvtap'];
const EXECUTORS: readonly Executor[] = ['netlink', 'iproute2'];

for (const setup of SETUPS) {
  for (const [model, executor] of MODELS_FOR_TEST.flatMap((m) => EXECUTORS.map((x) => [m, x] as const))) {
    test(`${model} on a ${setup}, ${executor} executor: a failure at any step leaves the netns as it was`, async (t) => {
      if (!requireRoot(t)) return;
      const { ns } = await netnsFixture(t);
      await makeEndpoint(ns.spec, setup);
      const before = await stateOf(ns);
      const ep = await endpointOf(ns, 'ep0', setup === 'tap' ? { asTap: ['ep0'] } : {});
      const view = right(t, await readNetns(ns)());
      const p = right(t, plan(ep, model, { queues: 2, routes: view.routes }));
      let steps = 0;
      for (const [pi, phase] of p.phases.entries()) {
        for (let step = 1; step <= phase.ops.length; step++) {
          steps += 1;
          const r = await attach(ns, ep, model, { queues: 2, executor, failAt: { phase: pi + 1, step } })();
          t.like(r, { _tag: 'Left', left: { _tag: 'ApplyFailed', phase: pi + 1, step, rollbackErrors: [] } }, `phase ${pi + 1} step ${step}`);
          t.deepEqual(await stateOf(ns), before, `phase ${pi + 1} step ${step}: ${phase.ops[step - 1]?.what ?? ''}`);
        }
      }
      // tcfilter: 3 ip + 5 tc + 1 ip; macvtap: 4 device ops, 2 routes, 2 addresses (v4, v6 link-local), 3 MAC/up ops.
      // (A tap without a reader has no carrier, hence no link-local address.)
      t.is(steps, model === 'tcfilter' ? 9 : setup === 'tap' ? 10 : 11);
    });
  }
}

test('attach twice reports the first; detach twice and detach without attach succeed', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const before = await stateOf(ns);
  const ep = await endpointOf(ns, 'ep0');
  t.like(await detach(ns, 'ep0')(), { _tag: 'Right', right: { detached: [] } });
  const a = right(t, await attach(ns, ep, 'tcfilter')());
  t.falsy(a.existing);
  const mid = await stateOf(ns);
  const again = right(t, await attach(ns, ep, 'tcfilter')());
  t.true(again.existing);
  t.is(again.tapName, a.tapName);
  t.deepEqual(await stateOf(ns), mid);
  t.like(await attach(ns, ep, 'macvtap')(), { _tag: 'Left', left: { _tag: 'AlreadyAttached', tapName: a.tapName } });
  t.like(await attach(ns, ep, 'tcfilter', { queues: 3 })(), { _tag: 'Left', left: { _tag: 'AlreadyAttached', tapName: a.tapName, asked: { queues: 3 } } });
  t.like(await attach(ns, ep, 'tcfilter', { tapName: 'other0' })(), { _tag: 'Left', left: { _tag: 'AlreadyAttached', tapName: a.tapName } });
  t.like(await detach(ns, a)(), { _tag: 'Right', right: { detached: [{ tapName: a.tapName }] } });
  t.like(await detach(ns, a)(), { _tag: 'Right', right: { detached: [] } });
  t.like(await detach(ns, 'ep0')(), { _tag: 'Right', right: { detached: [] } });
  t.deepEqual(await stateOf(ns), before);
});

test('detach of a half-made attachment (tap and alias only) succeeds and cleans up', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const before = await stateOf(ns);
  const ep = await endpointOf(ns, 'ep0');
  const p = right(t, plan(ep, 'tcfilter'));
  // What a crash after the ip phase would leave: the tap, no qdiscs or filters.
  const r = await attach(ns, ep, 'tcfilter', { failAt: { phase: 2, step: 1 } })();
  t.true(E.isLeft(r));
  await sh(['ip', '-n', ns.spec, 'tuntap', 'add', 'dev', p.tapName, 'mode', 'tap']);
  await sh(['ip', '-n', ns.spec, 'link', 'set', 'dev', p.tapName, 'alias', p.alias ?? '']);
  const findings = right(t, await check(ns, 'ep0')()).flatMap((c) => c.findings.map((f) => f._tag));
  t.true(findings.includes('QdiscMissing') && findings.includes('FilterMissing') && findings.includes('DeviceDown'), findings.join());
  t.like(await attach(ns, ep, 'tcfilter')(), { _tag: 'Left', left: { _tag: 'AttachmentDrifted' } });
  t.like(await detach(ns, 'ep0')(), { _tag: 'Right', right: { detached: [{ tapName: p.tapName }] } });
  t.deepEqual(await stateOf(ns), before);
});

test('refusals: missing link, tun device, loopback, foreign tap name, foreign ingress qdisc, none on a veth', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  await sh(['ip', '-n', ns.spec, 'tuntap', 'add', 'dev', 'tun0', 'mode', 'tun']);
  await sh(['ip', '-n', ns.spec, 'addr', 'add', '10.88.0.2/24', 'dev', 'tun0']);
  const before = await stateOf(ns);
  const eps = await endpointsOf(ns);
  const byName = (n: string) => eps.find((e) => e.link.name === n) ?? t.fail(n);
  const ep = byName('ep0') as NonNullable<ReturnType<typeof byName>> & object;
  t.like(await attach(ns, { ...ep, link: { ...ep.link, name: 'gone0' } } as typeof ep, 'tcfilter')(), { _tag: 'Left', left: { _tag: 'LinkNotFound', link: 'gone0' } });
  t.like(await attach(ns, byName('tun0') as typeof ep, 'tcfilter')(), { _tag: 'Left', left: { _tag: 'NotAttachable', link: 'tun0' } });
  t.like(await attach(ns, byName('lo') as typeof ep, 'tcfilter')(), { _tag: 'Left', left: { _tag: 'NotAttachable', link: 'lo', reason: 'loopback' } });
  t.like(await attach(ns, ep, 'none')(), { _tag: 'Left', left: { _tag: 'ModelNotSupported', link: 'ep0' } });
  t.like(await attach(ns, ep, 'tcfilter', { tapName: 'tun0' })(), { _tag: 'Left', left: { _tag: 'ForeignLinkExists', name: 'tun0' } });
  t.deepEqual(await stateOf(ns), before);
  await sh(['tc', '-n', ns.spec, 'qdisc', 'add', 'dev', 'ep0', 'ingress']);
  const withQdisc = await stateOf(ns);
  t.like(await attach(ns, ep, 'tcfilter')(), { _tag: 'Left', left: { _tag: 'ForeignIngressQdisc', link: 'ep0' } });
  t.deepEqual(await stateOf(ns), withQdisc);
});

test('none hands a tap over as is and changes nothing', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await sh(['ip', '-n', ns.spec, 'tuntap', 'add', 'dev', 'vmtap0', 'mode', 'tap', 'multi_queue']);
  const before = await stateOf(ns);
  const ep = await endpointOf(ns, 'vmtap0', { asTap: ['vmtap0'] });
  t.like(await attach(ns, ep, 'none', { queues: 4 })(), { _tag: 'Right', right: { tapName: 'vmtap0', queues: 4, multiQueue: true, device: 'tap' } });
  t.like(await detach(ns, 'vmtap0')(), { _tag: 'Right', right: { detached: [] } });
  t.deepEqual(await stateOf(ns), before);
});

test('attachAll attaches every attachable endpoint and undoes them all when one fails; detachAll removes all', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth', 'ep0');
  await sh(['ip', '-n', ns.spec, 'link', 'add', 'ep2', 'type', 'veth', 'peer', 'name', 'peer2']);
  await sh(['ip', '-n', ns.spec, 'addr', 'add', '10.66.0.2/24', 'dev', 'ep2']);
  const before = await stateOf(ns);
  const eps = await endpointsOf(ns);
  const as = right(t, await attachAll(ns, eps, 'tcfilter', { queues: 2 })());
  // peer0 is up with an IPv6 link-local address: attachable too, as a runtime would see it.
  t.deepEqual(as.map((a) => a.link).sort(), ['ep0', 'ep2', 'peer0']);
  t.is(right(t, await detachAll(ns)()).detached.length, 3);
  t.deepEqual(await stateOf(ns), before);
  // The second endpoint's attach fails (ingress qdisc not ours): the first is undone.
  await sh(['tc', '-n', ns.spec, 'qdisc', 'add', 'dev', 'ep2', 'ingress']);
  const withQdisc = await stateOf(ns);
  t.like(await attachAll(ns, eps, 'tcfilter')(), { _tag: 'Left', left: { _tag: 'ForeignIngressQdisc', link: 'ep2' } });
  t.deepEqual(await stateOf(ns), withQdisc);
});

// What a kill -9 of the attaching process group between the ip batch's first
// line (create the device) and its second (write the record) leaves: the
// device, named tw<ifindex>, as the creating line alone makes it.
for (const [model, setup] of [['tcfilter', 'veth'], ['tcfilter', 'tap'], ['macvtap', 'veth'], ['macvtap', 'macvlan']] as const) {
  test(`half-made ${model} device on a ${setup} (created, never recorded): check reports it, attach refuses, detach removes it`, async (t) => {
    if (!requireRoot(t)) return;
    const { ns } = await netnsFixture(t);
    await makeEndpoint(ns.spec, setup);
    const before = await stateOf(ns);
    const opts = setup === 'tap' ? { asTap: ['ep0'] } : {};
    const ep = await endpointOf(ns, 'ep0', opts);
    const p = right(t, plan(ep, model, { queues: 2 }));
    const create = p.phases[0]?.ops[0]?.argv ?? [];
    await sh(['ip', '-n', ns.spec, ...create]);
    t.like(right(t, await check(ns, 'ep0')()), [{ attachment: { tapName: p.tapName, model }, findings: [{ _tag: 'RecordMissing', device: p.tapName }] }]);
    t.like(await attach(ns, ep, model, { queues: 2 })(), { _tag: 'Left', left: { _tag: 'AttachmentDrifted', tapName: p.tapName, findings: [{ _tag: 'RecordMissing' }] } });
    // attachAll neither takes the half-made device for an endpoint nor attaches ep0 over it.
    // (--tap names a half-made tap as a tap to hand over, so the scan offers it as an endpoint;
    // a down macvtap is never offered.)
    const all = await endpointsOf(ns, setup === 'tap' ? { asTap: ['ep0', p.tapName] } : { asTap: [p.tapName] });
    if (model === 'tcfilter') t.true(all.some((e) => e.link.name === p.tapName && e.skipped === undefined), 'offered as an endpoint');
    t.like(await attachAll(ns, all, model)(), { _tag: 'Left', left: { _tag: 'AttachmentDrifted', link: 'ep0' } });
    t.like(await detach(ns, 'ep0')(), { _tag: 'Right', right: { detached: [{ tapName: p.tapName, model }], halfMade: [p.tapName] } });
    t.deepEqual(await stateOf(ns), before);
    // detach --all and detach by the device's own name find it too.
    await sh(['ip', '-n', ns.spec, ...create]);
    t.like(await detachAll(ns)(), { _tag: 'Right', right: { halfMade: [p.tapName] } });
    await sh(['ip', '-n', ns.spec, ...create]);
    t.like(await detach(ns, p.tapName)(), { _tag: 'Right', right: { halfMade: [p.tapName] } });
    t.deepEqual(await stateOf(ns), before);
  });
}

test('a tw<ifindex> device that is not exactly a creating line\'s work stays foreign', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const ep = await endpointOf(ns, 'ep0');
  const tap = `tw${ep.link.ifindex}`;
  const variants: readonly (readonly string[])[] = [
    [`tuntap add dev ${tap} mode tap`],
    [`tuntap add dev ${tap} mode tun vnet_hdr`],
    [`tuntap add dev ${tap} mode tap vnet_hdr`, `link set dev ${tap} up`],
    [`tuntap add dev ${tap} mode tap vnet_hdr`, `link set dev ${tap} alias someone-elses`],
    [`link add ${tap} type veth peer name ${tap}p`],
    [`link add link peer0 name ${tap} type macvtap mode bridge`],
  ];
  for (const lines of variants) {
    await ipIn(ns.spec, lines);
    const withIt = await stateOf(ns);
    t.like(await detach(ns, 'ep0')(), { _tag: 'Right', right: { detached: [], halfMade: [] } }, lines.join('; '));
    t.like(await detachAll(ns)(), { _tag: 'Right', right: { detached: [] } }, lines.join('; '));
    t.like(await attach(ns, ep, 'tcfilter')(), { _tag: 'Left', left: { _tag: 'ForeignLinkExists', name: tap } }, lines.join('; '));
    t.deepEqual(await stateOf(ns), withIt, lines.join('; '));
    await sh(['ip', '-n', ns.spec, 'link', 'del', 'dev', tap]);
  }
});
