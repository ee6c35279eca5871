// netmodel reports its steps to onProgress (lock, read, apply, done) for
// attachAll and detach, and an aborted signal stops a call before it changes
// anything.
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan } from '@tapwire/endpoints';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { attachAll } from './attach-all.js';
import { detach } from './detach.js';
import type { NetmodelProgress } from './progress.js';
import { netnsState } from './state.js';

const pod = async (t: ExecutionContext): Promise<NetnsHandle> => {
  const made = await makeNetns(t, 'twpg');
  await sh(['ip', '-n', made.name, '-batch', '-'], 'link add eth0 type veth peer name p0\naddr add 10.95.0.2/24 dev eth0\nlink set eth0 up\n');
  const ns = resolveNetns(made.name);
  if (E.isLeft(ns)) throw new Error(JSON.stringify(ns.left));
  return ns.right;
};

test('attachAll and detach report lock, read, apply, done; an aborted signal changes nothing', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await pod(t);
  const before = await netnsState(ns)();
  const snap = await scan(ns)();
  if (E.isLeft(snap)) return t.fail(JSON.stringify(snap.left));
  const endpoints = classify(snap.right).filter((e) => e.link.name === 'eth0');

  const ac = new AbortController();
  ac.abort('stop');
  const aborted = await attachAll(ns, endpoints, 'tcfilter', { signal: ac.signal })();
  t.like(aborted, { left: { _tag: 'Aborted', reason: 'stop' } });
  t.deepEqual(await netnsState(ns)(), before, 'an aborted attach changed nothing');

  const seen: NetmodelProgress[] = [];
  const attached = await attachAll(ns, endpoints, 'tcfilter', { onProgress: (e) => seen.push(e) })();
  if (E.isLeft(attached)) return t.fail(JSON.stringify(attached.left));
  t.teardown(async () => {
    for (const a of attached.right) await detach(ns, a)();
  });
  t.deepEqual(seen.map((e) => `${e.operation} ${e.step}`), ['attach lock', 'attach read', 'attach apply', 'attach done']);
  t.true(seen.every((e, i) => e.netns === ns.spec && e.ms >= (seen[i - 1]?.ms ?? 0)));
  t.regex(seen[2]?.detail ?? '', /1 to attach \(eth0\)/);

  const detachSteps: NetmodelProgress[] = [];
  const d = await detach(ns, 'eth0', { onProgress: (e) => detachSteps.push(e) })();
  t.true(E.isRight(d));
  t.deepEqual(detachSteps.map((e) => e.step), ['lock', 'read', 'apply', 'done']);
  t.is(detachSteps[3]?.detail, attached.right[0]?.tapName);
  t.deepEqual(await netnsState(ns)(), before);
});
