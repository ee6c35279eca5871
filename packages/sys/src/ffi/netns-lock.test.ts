// The per-netns lock: keyed by the netns's identity, released on demand and
// when the holder dies, with a typed NetnsBusy naming the holder.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { requireRoot } from '@tapwire/testkit';
import { lockNetns } from './netns-lock.js';
import { handleAt, testNetns } from './testing-netns.js';

const lockDir = (t: { teardown: (f: () => void) => void }): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-locks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'locks');
};

test('a second holder waits, then gets NetnsBusy naming the first; the name does not matter, the netns does', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await testNetns(t);
  const dir = lockDir(t);
  const first = await lockNetns(ns, 'attach ep0', { dir })();
  if (E.isLeft(first)) return t.fail(JSON.stringify(first.left));
  t.teardown(first.right.release);
  const alias = handleAt('another spelling', ns.path);
  const start = Date.now();
  const second = await lockNetns(alias, 'attach ep0', { dir, timeoutMs: 150 })();
  t.true(Date.now() - start >= 150);
  t.like(second, { _tag: 'Left', left: { _tag: 'NetnsBusy', netns: 'another spelling', holder: `pid ${process.pid}: attach ep0` } });
  first.right.release();
  t.deepEqual(readdirSync(dir), [], 'release removes the lock file');
  const third = await lockNetns(alias, 'detach', { dir, timeoutMs: 150 })();
  t.true(E.isRight(third));
  if (E.isRight(third)) third.right.release();
});

test('a killed holder leaves no lock behind', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await testNetns(t);
  const dir = lockDir(t);
  const held = await lockNetns(ns, 'probe', { dir })();
  if (E.isLeft(held)) return t.fail(JSON.stringify(held.left));
  const file = held.right.file;
  held.right.release();
  // flock(1) holds the same file in another process (exec'd into sleep) until it is killed.
  const child = execa('flock', ['--exclusive', '--no-fork', file, 'sleep', '30'], { reject: false });
  t.teardown(() => child.kill('SIGKILL'));
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  t.like(await lockNetns(ns, 'x', { dir, timeoutMs: 50 })(), { _tag: 'Left', left: { _tag: 'NetnsBusy' } });
  child.kill('SIGKILL');
  await child;
  const after = await lockNetns(ns, 'x', { dir, timeoutMs: 2000 })();
  t.true(E.isRight(after));
  if (E.isRight(after)) after.right.release();
});
