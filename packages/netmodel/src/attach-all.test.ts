// attachAll as one transaction over many endpoints: constant spawns whatever
// the number of endpoints, and a fault at any line of the merged plan leaves
// the netns exactly as found.
import test from 'ava';
import type { Endpoint } from '@tapwire/endpoints';
import { spawnCount } from '@tapwire/sys';
import { requireRoot, sh } from '@tapwire/testkit';
import { attachAll } from './attach-all.js';
import { check, detachAll } from './detach.js';
import { mergePhases } from './merge.js';
import { DETACH_GROUP, type Model } from './model.js';
import { plan } from './plan.js';
import { readNetns } from './state.js';
import { endpointsOf, makeEndpoints, netnsFixture, right, SETUPS, stateOf } from './testing.js';

const MODELS_FOR_TEST: readonly Model[] = ['tcfilter', 'macvtap'];
const PHASES = { tcfilter: 3, macvtap: 1, none: 0 } as const satisfies Readonly<Record<Model, number>>;
/** Detach runs one batch per tool with work: tcfilter tc then ip, macvtap ip. */
const DETACH_TOOLS = { tcfilter: 2, macvtap: 1, none: 0 } as const satisfies Readonly<Record<Model, number>>;

const named = (eps: readonly Endpoint[], names: readonly string[]): Endpoint[] =>
  names.map((n) => {
    const e = eps.find((x) => x.link.name === n);
    if (e === undefined) throw new Error(`no endpoint ${n}`);
    return e;
  });

test.serial('spawns: attachAll and detachAll of 1, 8 and 32 endpoints cost the same (attach tcfilter 5, macvtap 3; detach tcfilter 4, macvtap 3)', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  const names = await makeEndpoints(ns.spec, ['veth'], 32);
  const before = await stateOf(ns);
  const eps = await endpointsOf(ns);
  for (const model of MODELS_FOR_TEST) {
    for (const n of [1, 8, 32]) {
      const chosen = named(eps, names.slice(0, n));
      const s0 = spawnCount();
      const t0 = performance.now();
      const as = right(t, await attachAll(ns, chosen, model, { executor: 'iproute2' })());
      const attachMs = performance.now() - t0;
      const attachSpawns = spawnCount() - s0;
      t.is(attachSpawns, 2 + PHASES[model], `${model} attachAll of ${n}`);
      t.is(as.length, n);
      t.deepEqual(right(t, await check(ns)()).flatMap((c) => c.findings), [], `${model} x${n}: attached as promised`);
      const s1 = spawnCount();
      const t1 = performance.now();
      t.is(right(t, await detachAll(ns, { executor: 'iproute2' })()).detached.length, n);
      const detachMs = performance.now() - t1;
      const detachSpawns = spawnCount() - s1;
      t.is(detachSpawns, 2 + DETACH_TOOLS[model], `${model} detachAll of ${n}`);
      t.log(`${model} x${String(n).padStart(2)}: attachAll ${attachMs.toFixed(0)} ms in ${attachSpawns} spawns, detachAll ${detachMs.toFixed(0)} ms in ${detachSpawns} spawns`);
      t.deepEqual(await stateOf(ns), before, `${model} x${n}: restored`);
    }
  }
});

for (const model of MODELS_FOR_TEST) {
  // Serial: spawnCount() is per process and ava runs a file's other tests concurrently.
  test.serial(`${model}: attachAll of a veth, a macvlan and a tap with a fault at every line of the merged plan leaves the netns as it was`, async (t) => {
    if (!requireRoot(t)) return;
    const { ns } = await netnsFixture(t);
    const names = await makeEndpoints(ns.spec, SETUPS);
    const before = await stateOf(ns);
    const eps = named(await endpointsOf(ns, { asTap: names.filter((_, i) => SETUPS[i] === 'tap') }), names);
    const view = right(t, await readNetns(ns)());
    const phases = mergePhases(eps.map((e) => right(t, plan(e, model, { queues: 2, routes: view.routes }))));
    t.is(phases.length, PHASES[model]);
    let steps = 0;
    for (const [pi, phase] of phases.entries()) {
      for (let step = 1; step <= phase.ops.length; step++) {
        steps += 1;
        const where = `phase ${pi + 1} step ${step}: ${phase.ops[step - 1]?.what ?? ''}`;
        const s0 = spawnCount();
        const r = await attachAll(ns, eps, model, { queues: 2, executor: 'iproute2', failAt: { phase: pi + 1, step } })();
        t.like(r, { _tag: 'Left', left: { _tag: 'ApplyFailed', phase: pi + 1, step, rollbackErrors: [] } }, where);
        // Read 2, apply the phases up to the failing one, undo each phase that changed something undoable.
        const undoBatches = phases.slice(0, pi + 1).filter((ph, k) => (k < pi ? ph.ops : ph.ops.slice(0, step - 1)).some((o) => o.undoActions.length > 0)).length;
        t.is(spawnCount() - s0, 2 + (pi + 1) + undoBatches, where);
        t.deepEqual(await stateOf(ns), before, where);
      }
    }
    // tcfilter: 9 lines each; macvtap: 11 for ep0 (two routes, v4 + v6 link-local), 10 for
    // ep1 (one route), 9 for the tap ep2 (no carrier, so no link-local address).
    t.is(steps, model === 'tcfilter' ? 3 * 9 : 11 + 10 + 9);
    t.is(right(t, await attachAll(ns, eps, model, { queues: 2 })()).length, 3);
    t.deepEqual(right(t, await check(ns)()).flatMap((c) => c.findings), []);
    t.is(right(t, await detachAll(ns)()).detached.length, 3);
    t.deepEqual(await stateOf(ns), before);
  });
}

test('attachAll lists the same endpoint twice: attached once, reported twice', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  const names = await makeEndpoints(ns.spec, ['veth'], 2);
  const before = await stateOf(ns);
  const eps = named(await endpointsOf(ns), names);
  const twice = [eps[0], eps[1], eps[0]] as Endpoint[];
  const as = right(t, await attachAll(ns, twice, 'tcfilter')());
  t.deepEqual(as.map((a) => a.link), ['ep0', 'ep1', 'ep0']);
  t.is(as[0]?.tapName, as[2]?.tapName);
  t.is(right(t, await detachAll(ns)()).detached.length, 2);
  t.deepEqual(await stateOf(ns), before);
});

test('detachAll deletes many devices in one request, but never a foreign member of its link group', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  const names = await makeEndpoints(ns.spec, ['veth'], 3);
  const before = await stateOf(ns);
  const eps = named(await endpointsOf(ns), names);
  for (const model of MODELS_FOR_TEST) {
    right(t, await attachAll(ns, eps, model)());
    const d = right(t, await detachAll(ns)());
    t.is(d.detached.length, 3);
    t.deepEqual(d.commands.filter((c) => c.startsWith('ip link del')), [`ip link del group ${DETACH_GROUP}`], model);
    t.deepEqual(await stateOf(ns), before, model);
  }
  // Someone else's link in the group: detach deletes one device at a time instead.
  await sh(['ip', '-n', ns.spec, 'link', 'add', 'other0', 'group', String(DETACH_GROUP), 'type', 'veth', 'peer', 'name', 'other0p']);
  const withOther = await stateOf(ns);
  right(t, await attachAll(ns, eps, 'tcfilter')());
  const d = right(t, await detachAll(ns)());
  t.is(d.commands.filter((c) => c.startsWith('ip link del dev tw')).length, 3);
  t.false(d.commands.some((c) => c.includes('group')));
  t.deepEqual(await stateOf(ns), withOther, 'other0 is still there');
});

test.serial('attachAll hands a macvtap endpoint over as it is while the others take the model asked for', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await sh(['ip', '-n', ns.spec, '-batch', '-'], [
    'link add v0 type veth peer name v0p',
    'addr add 10.93.0.2/24 dev v0',
    'link set v0 up',
    'link add link v0p name mvt0 type macvtap mode bridge',
    'addr add 10.93.1.2/24 dev mvt0',
    'link set mvt0 up',
  ].join('\n') + '\n');
  const before = await stateOf(ns);
  const eps = await endpointsOf(ns);
  const as = right(t, await attachAll(ns, eps, 'tcfilter')());
  t.deepEqual(
    as.map((a) => [a.link, a.model, a.device]).sort(),
    [['mvt0', 'none', 'macvtap'], ['v0', 'tcfilter', 'tap']],
  );
  right(t, await detachAll(ns)());
  t.deepEqual(await stateOf(ns), before);
});
