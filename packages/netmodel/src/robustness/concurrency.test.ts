// 32 netns attached and detached at once from one process. Every netns has a
// link named ep0 (and so, likely, the same ifindex and tap name tw<N>); only
// the MAC tells them apart, so a command that ran in the wrong netns shows as
// a foreign MAC in a record, a second attachment, or a netns not restored.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireRoot } from '@tapwire/testkit';
import { attach } from '../attach.js';
import { check, detach } from '../detach.js';
import type { Model } from '../model.js';
import { decodeRecord, isTapwireAlias } from '../record.js';
import { readNetns } from '../state.js';
import { endpointOf, ipIn, netnsFixture, right, stateOf } from '../testing.js';

const N = 32;
const macOf = (i: number): string => `02:77:00:00:00:${i.toString(16).padStart(2, '0')}`;

test('concurrency: 32 netns attached and detached in parallel, each holding only its own attachment', async (t) => {
  if (!requireRoot(t)) return;
  const nets = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const f = await netnsFixture(t);
      await ipIn(f.name, [`link add ep0 address ${macOf(i)} type veth peer name peer0`, 'link set dev peer0 up', `addr add 10.77.0.2/24 dev ep0`, 'link set dev ep0 up', 'route add default via 10.77.0.1 dev ep0']);
      return { i, ns: f.ns, model: (i % 2 === 0 ? 'tcfilter' : 'macvtap') as Model, before: await stateOf(f.ns), ep: await endpointOf(f.ns, 'ep0') };
    }),
  );
  for (const round of [0, 1]) {
    // Round 1 swaps the models, so every netns sees both.
    const modelOf = (n: (typeof nets)[number]): Model => (round === 0 ? n.model : n.model === 'tcfilter' ? 'macvtap' : 'tcfilter');
    const t0 = performance.now();
    const attached = await Promise.all(nets.map((n) => attach(n.ns, n.ep, modelOf(n))()));
    const attachMs = performance.now() - t0;
    attached.forEach((r, i) => t.true(E.isRight(r), `netns ${i}: ${JSON.stringify(r)}`));
    await Promise.all(
      nets.map(async (n) => {
        const v = right(t, await readNetns(n.ns)());
        const records = v.links.filter((l) => isTapwireAlias(l.alias)).map((l) => ({ tap: l.name, record: decodeRecord(l.alias ?? '') }));
        t.is(records.length, 1, `netns ${n.i} holds exactly one attachment`);
        t.like(records[0]?.record, { _tag: 'Right', right: { model: modelOf(n), mac: macOf(n.i), ifindex: n.ep.link.ifindex } }, `netns ${n.i} holds its own`);
        t.deepEqual(right(t, await check(n.ns)()).flatMap((c) => c.findings), [], `netns ${n.i} as attach promised`);
      }),
    );
    const t1 = performance.now();
    const detached = await Promise.all(nets.map((n) => detach(n.ns, 'ep0')()));
    const detachMs = performance.now() - t1;
    detached.forEach((r, i) => t.like(r, { _tag: 'Right', right: { detached: [{ model: modelOf(nets[i] as (typeof nets)[number]) }] } }, `netns ${i}`));
    const after = await Promise.all(nets.map((n) => stateOf(n.ns)));
    after.forEach((s, i) => t.deepEqual(s, nets[i]?.before, `netns ${i} restored`));
    t.log(`round ${round}: ${N} attaches in parallel ${attachMs.toFixed(0)} ms, ${N} detaches ${detachMs.toFixed(0)} ms`);
  }
});
