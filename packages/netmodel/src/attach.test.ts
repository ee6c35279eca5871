// Each model on veth, macvlan and tap endpoints, in a real netns: attach makes
// what the model promises; detach leaves the netns exactly as before.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { spawnCount } from '@tapwire/sys';
import { requireRoot, sh } from '@tapwire/testkit';
import { attach } from './attach.js';
import { check, detach } from './detach.js';
import type { Model } from './model.js';
import { readNetns } from './state.js';
import { endpointOf, makeEndpoint, netnsFixture, right, SETUPS, stateOf } from './testing.js';
import { redirectTarget } from './tc-json.js';

const MODELS_FOR_TEST: readonly Model[] = ['tcfilter', 'macvtap'];

for (const setup of SETUPS) {
  for (const model of MODELS_FOR_TEST) {
    test(`${model} on a ${setup}: attach makes what it promises, detach restores the netns exactly`, async (t) => {
      if (!requireRoot(t)) return;
      const { ns } = await netnsFixture(t);
      await makeEndpoint(ns.spec, setup);
      const before = await stateOf(ns);
      const ep = await endpointOf(ns, 'ep0', setup === 'tap' ? { asTap: ['ep0'] } : {});
      const origMac = ep.link.mac;
      const a = right(t, await attach(ns, ep, model, { queues: 2 })());
      t.like(a, { link: 'ep0', model, tapName: `tw${ep.link.ifindex}`, queues: 2, multiQueue: true, guestMac: origMac, mtu: ep.link.mtu, device: model === 'tcfilter' ? 'tap' : 'macvtap' });
      const v = right(t, await readNetns(ns)());
      const tap = v.links.find((l) => l.name === a.tapName);
      const link = v.links.find((l) => l.name === 'ep0');
      t.truthy(tap);
      t.true(tap?.flags.includes('UP'));
      t.is(tap?.mtu, ep.link.mtu);
      if (model === 'tcfilter') {
        t.like(tap?.tun, { mode: 'tap', multiQueue: true, vnetHdr: true, persist: true });
        t.is(link?.mac, origMac);
        t.deepEqual(link?.addresses, ep.link.addresses);
        t.true(v.filters['ep0']?.some((f) => redirectTarget(f) === a.tapName));
        t.true(v.filters[a.tapName]?.some((f) => redirectTarget(f) === 'ep0'));
      } else {
        t.is(tap?.kind, 'macvtap');
        t.is(tap?.mac, origMac);
        t.is(tap?.txqlen, ep.link.txqlen);
        t.not(link?.mac, origMac);
        t.deepEqual(link?.addresses.filter((x) => x.family === 'inet'), []);
        t.false(v.routes.some((r) => r.dev === 'ep0' && r.family === 'inet'));
      }
      t.deepEqual(right(t, await check(ns, a)()).flatMap((r) => r.findings), []);
      const d = right(t, await detach(ns, 'ep0')());
      t.is(d.detached.length, 1);
      t.deepEqual(await stateOf(ns), before);
    });
  }
}

test.serial('spawns: attach of one endpoint costs exactly 2 reads + 1 per phase with the ip/tc executor, none with netlink; detach 2 reads + 1 per tool, or none', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const ep = await endpointOf(ns, 'ep0');
  for (const executor of ['iproute2', 'netlink'] as const) {
    for (const [model, phases, tools] of [['tcfilter', 3, 2], ['macvtap', 1, 1]] as const) {
      const spawns = executor === 'netlink' ? 0 : 2 + phases;
      const s0 = spawnCount();
      const t0 = performance.now();
      right(t, await attach(ns, ep, model, { executor })());
      const ms = performance.now() - t0;
      t.is(spawnCount() - s0, spawns, `${executor} ${model}`);
      t.log(`${executor} ${model}: ${spawnCount() - s0} spawns, ${ms.toFixed(1)} ms per attach`);
      const s1 = spawnCount();
      right(t, await detach(ns, 'ep0', { executor })());
      t.is(spawnCount() - s1, executor === 'netlink' ? 0 : 2 + tools, `${executor} ${model} detach`);
    }
  }
});

test.serial('a name with ; quotes $(...) and non-ASCII attaches and detaches cleanly', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  const weird = `e;'$(x)é`;
  await makeEndpoint(ns.spec, 'veth', 'ep0');
  await sh(['ip', '-n', ns.spec, 'link', 'set', 'dev', 'ep0', 'name', weird]);
  const before = await stateOf(ns);
  const ep = await endpointOf(ns, weird);
  for (const model of MODELS_FOR_TEST) {
    const s0 = spawnCount();
    right(t, await attach(ns, ep, model, { executor: 'iproute2' })());
    t.is(spawnCount() - s0, model === 'tcfilter' ? 5 : 3, 'still batched');
    right(t, await detach(ns, weird, { executor: 'iproute2' })());
    t.deepEqual(await stateOf(ns), before, model);
    right(t, await attach(ns, ep, model, { executor: 'netlink' })());
    right(t, await detach(ns, weird, { executor: 'netlink' })());
    t.deepEqual(await stateOf(ns), before, model);
  }
});

test.serial("a name with '#' falls back to one spawn per command and still round-trips", async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth', 'ep0');
  await sh(['ip', '-n', ns.spec, 'link', 'set', 'dev', 'ep0', 'name', 'ep#0']);
  const before = await stateOf(ns);
  const ep = await endpointOf(ns, 'ep#0');
  right(t, await attach(ns, ep, 'tcfilter')());
  t.deepEqual(right(t, await check(ns, 'ep#0')()).flatMap((r) => r.findings), []);
  right(t, await detach(ns, 'ep#0')());
  t.deepEqual(await stateOf(ns), before);
  t.true(E.isRight(await detach(ns, 'ep#0')()));
});
