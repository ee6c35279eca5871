// The ip/tc executor is the oracle for the netlink one: for every model and
// fixture, and for merged multi-endpoint plans, the netns after a netlink
// attach is the netns after an iproute2 attach (the snapshot rollback checks
// use); and a failure injected at any message of a merged plan leaves the
// netns as it was (single plans: transaction.test.ts, for both executors).
import test from 'ava';
import { requireRoot } from '@tapwire/testkit';
import type { Executor } from './apply.js';
import { attach, attachMany } from './attach.js';
import { detach, detachAll } from './detach.js';
import type { Model } from './model.js';
import { plan } from './plan.js';
import { readNetns, type NetnsView } from './state.js';
import { redirectTarget } from './tc-json.js';
import { endpointOf, endpointsOf, makeEndpoint, makeEndpoints, netnsFixture, right, SETUPS, stateOf } from './testing.js';

const MODELS_FOR_TEST: readonly Model[] = ['tcfilter', 'macvtap'];

/** A tap's MAC is random at creation (both executors): the only field two attaches may differ in. */
const comparable = (state: unknown): unknown => {
  const s = state as { links: { name: string; kind: string | null; mac: string | null }[] };
  return { ...s, links: s.links.map((l) => (l.kind === 'tun' && l.name.startsWith('tw') ? { ...l, mac: 'random' } : l)) };
};

/** The netns after attaching with one executor; then detached again by the same executor. */
const afterAttach = async (t: Parameters<typeof right>[0], run: (executor: Executor) => Promise<unknown>, ns: Parameters<typeof stateOf>[0], executor: Executor): Promise<unknown> => {
  right(t, (await run(executor)) as never);
  const state = comparable(await stateOf(ns));
  if (executor === 'netlink') await sameView(t, ns);
  right(t, await detachAll(ns, { executor })());
  return state;
};

/** What netmodel decides on, read over rtnetlink and with ip/tc: the same. */
const sameView = async (t: Parameters<typeof right>[0], ns: Parameters<typeof stateOf>[0]): Promise<void> => {
  const decisive = (v: NetnsView) => ({
    links: v.links,
    routes: v.routes,
    inDetachGroup: v.inDetachGroup,
    qdiscs: v.qdiscs.map((q) => ({ dev: q.dev, kind: q.kind, handle: q.handle, parent: q.parent ?? null })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    redirects: Object.fromEntries(Object.entries(v.filters).map(([dev, fs]) => [dev, fs.map(redirectTarget).filter((x) => x !== undefined)])),
  });
  const viaNetlink = right(t, await readNetns(ns, 'netlink')());
  const viaTools = right(t, await readNetns(ns, 'iproute2')());
  t.deepEqual(decisive(viaNetlink), decisive(viaTools));
};

for (const setup of SETUPS) {
  for (const model of MODELS_FOR_TEST) {
    test(`${model} on a ${setup}: the netlink executor makes the netns the ip/tc executor makes`, async (t) => {
      if (!requireRoot(t)) return;
      const { ns } = await netnsFixture(t);
      await makeEndpoint(ns.spec, setup);
      const before = await stateOf(ns);
      const ep = await endpointOf(ns, 'ep0', setup === 'tap' ? { asTap: ['ep0'] } : {});
      const run = (executor: Executor) => attach(ns, ep, model, { queues: 2, executor })();
      const oracle = await afterAttach(t, run, ns, 'iproute2');
      t.deepEqual(await stateOf(ns), before);
      t.deepEqual(await afterAttach(t, run, ns, 'netlink'), oracle);
      t.deepEqual(await stateOf(ns), before);
    });
  }
}

for (const model of MODELS_FOR_TEST) {
  test(`${model}, merged plan of a veth, a macvlan and a tap: both executors make the same netns, and a failure at any step of the merged plan restores it`, async (t) => {
    if (!requireRoot(t)) return;
    const { ns } = await netnsFixture(t);
    const names = await makeEndpoints(ns.spec, SETUPS);
    const before = await stateOf(ns);
    const eps = (await endpointsOf(ns, { asTap: ['ep2'] })).filter((e) => names.includes(e.link.name));
    t.is(eps.length, 3);
    const run = (executor: Executor) => attachMany(ns, eps, model, { executor })();
    const oracle = await afterAttach(t, run, ns, 'iproute2');
    t.deepEqual(await afterAttach(t, run, ns, 'netlink'), oracle);
    t.deepEqual(await stateOf(ns), before);
    const view = right(t, await readNetns(ns)());
    const phases = eps.map((e) => right(t, plan(e, model, { routes: view.routes })).phases);
    const steps = [0, 1].map((k) => phases.reduce((n, ps) => n + (ps[k]?.ops.length ?? 0), 0)).filter((n) => n > 0);
    for (const [pi, n] of steps.entries()) {
      for (let step = 1; step <= n; step++) {
        const r = await attachMany(ns, eps, model, { executor: 'netlink', failAt: { phase: pi + 1, step } })();
        t.like(r, { _tag: 'Left', left: { _tag: 'ApplyFailed', phase: pi + 1, step, rollbackErrors: [] } }, `phase ${pi + 1} step ${step}`);
        t.deepEqual(await stateOf(ns), before, `phase ${pi + 1} step ${step}`);
      }
    }
    right(t, await detach(ns, 'ep0')());
  });
}
