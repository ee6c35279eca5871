import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns } from '@tapwire/sys';
import { makeNetns, requireRoot } from '@tapwire/testkit';
import { describeEndpointsError } from './errors.js';
import { scanUntilAttachable } from './scan-wait.js';

test('an abort ends a wait for an attachable link at once, as Aborted with the reason', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  const h = resolveNetns(ns.name);
  if (E.isLeft(h)) return t.fail(JSON.stringify(h.left));
  const stop = new AbortController();
  setTimeout(() => stop.abort('test over'), 300);
  const started = Date.now();
  const r = await scanUntilAttachable(h.right, 60_000, { signal: stop.signal })();
  t.true(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  if (E.isRight(r)) return t.fail('an empty netns has nothing attachable');
  t.is(r.left._tag, 'Aborted');
  t.regex(describeEndpointsError(r.left), /was aborted: test over/);
});

test('a netns that is gone is a Sys error, wrapped whole', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  const h = resolveNetns(ns.name);
  if (E.isLeft(h)) return t.fail(JSON.stringify(h.left));
  const r = await scanUntilAttachable({ ...h.right, path: '/nonexistent/netns' }, 0)();
  if (E.isRight(r)) return t.fail('scanned a netns path that does not exist');
  t.is(r.left._tag, 'Sys');
});

test('usable decides what ends the wait: here lo, which the default (one attachable link) would wait past', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  const h = resolveNetns(ns.name);
  if (E.isLeft(h)) return t.fail(JSON.stringify(h.left));
  const started = Date.now();
  const r = await scanUntilAttachable(h.right, 60_000, { usable: (s) => s.links.some((l) => l.name === 'lo') })();
  if (E.isLeft(r)) return t.fail(describeEndpointsError(r.left));
  t.true(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  t.deepEqual(r.right.snapshot.links.map((l) => l.name), ['lo']);
});
