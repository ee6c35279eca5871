import { closeSync, openSync } from 'node:fs';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireRoot } from '@tapwire/testkit';
import { nsTypeOfFd } from './nstype.js';
import { inNetnsSync, withNetnsSync } from './netns-sync.js';
import { openFdCount, testNetns, threadNetns } from './testing-netns.js';

test('withNetnsSync runs fn inside the netns and comes back', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await testNetns(t);
  const before = threadNetns();
  const r = withNetnsSync(ns, threadNetns);
  t.deepEqual(r, E.right(`net:[${ns.inode}]`));
  t.not(before, `net:[${ns.inode}]`);
  t.is(threadNetns(), before);
});

test('withNetnsSync comes back and closes its fds when fn throws', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await testNetns(t);
  const before = threadNetns();
  const fds = openFdCount();
  let seenInside = '';
  t.throws(
    () =>
      withNetnsSync(ns, () => {
        seenInside = threadNetns();
        throw new Error('boom');
      }),
    { message: 'boom' },
  );
  t.is(seenInside, `net:[${ns.inode}]`);
  t.is(threadNetns(), before);
  t.is(openFdCount(), fds);
});

test('withNetnsSync nests, each level returning to where it was', async (t) => {
  if (!requireRoot(t)) return;
  const a = await testNetns(t);
  const b = await testNetns(t);
  const before = threadNetns();
  const r = withNetnsSync(a.ns, () => [threadNetns(), withNetnsSync(b.ns, threadNetns), threadNetns()]);
  t.deepEqual(r, E.right([`net:[${a.ns.inode}]`, E.right(`net:[${b.ns.inode}]`), `net:[${a.ns.inode}]`]));
  t.is(threadNetns(), before);
});

test('inNetnsSync passes fn failures through', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await testNetns(t);
  t.deepEqual(
    inNetnsSync(ns, () => E.left({ _tag: 'FfiUnavailable', detail: 'x' } as const)),
    E.left({ _tag: 'FfiUnavailable', detail: 'x' }),
  );
});

test('a netns path that now names another netns is refused before entering', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await testNetns(t);
  const before = threadNetns();
  let ran = false;
  const r = withNetnsSync({ ...ns, inode: ns.inode + 1 }, () => (ran = true));
  t.like(r, { _tag: 'Left', left: { _tag: 'NetnsChanged', input: ns.spec, foundInode: ns.inode } });
  t.false(ran);
  t.is(threadNetns(), before);
});

test('a missing netns path is NetnsNotFound', (t) => {
  const r = withNetnsSync({ spec: 'gone', path: '/var/run/netns/tapwire-no-such-netns', inode: 1 }, () => 1);
  t.like(r, { _tag: 'Left', left: { _tag: 'NetnsNotFound', input: 'gone' } });
});

test('nsTypeOfFd names bind-mounted and /proc netns, mount ns, and refuses plain files', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await testNetns(t);
  const typeOf = (path: string) => {
    const fd = openSync(path, 'r');
    try {
      return nsTypeOfFd(fd);
    } finally {
      closeSync(fd);
    }
  };
  t.deepEqual(typeOf(ns.path), E.right('net'));
  t.deepEqual(typeOf('/proc/self/ns/net'), E.right('net'));
  t.deepEqual(typeOf('/proc/self/ns/mnt'), E.right('mnt'));
  t.deepEqual(typeOf('/proc/self/status'), E.right(undefined));
});
