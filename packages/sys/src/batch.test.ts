import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { encodeBatchWord, runBatch } from './batch.js';
import { spawnCount } from './exec.js';
import { resolveNetns } from './netns.js';

test('batch words: plain, quoted with the other quote, or not writable', (t) => {
  t.deepEqual(encodeBatchWord('a;b$(x)é'), E.right('a;b$(x)é'));
  t.deepEqual(encodeBatchWord("'x"), E.right(`"'x"`));
  t.deepEqual(encodeBatchWord('"x'), E.right(`'"x'`));
  t.true(E.isLeft(encodeBatchWord(`'"`)));
  t.true(E.isLeft(encodeBatchWord('a#b')));
  t.true(E.isLeft(encodeBatchWord('a b')));
  t.true(E.isLeft(encodeBatchWord('')));
});

test('a command -batch cannot carry runs alone; the rest stay batched and line numbers stay the caller\'s', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  const h = resolveNetns(ns.name);
  if (E.isLeft(h)) return t.fail(JSON.stringify(h.left));
  const cmds = [
    ['link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1'],
    ['link', 'add', 'b0', 'type', 'veth', 'peer', 'name', 'b1'],
    ['link', 'add', 'odd#1', 'type', 'veth', 'peer', 'name', 'c1'],
    ['link', 'set', 'a0', 'up'],
    ['link', 'set', 'no-such-link', 'up'],
    ['link', 'set', 'b0', 'up'],
  ];
  const s0 = spawnCount();
  const r = await runBatch(h.right, 'ip', cmds)();
  t.is(spawnCount() - s0, 3, 'batch, the odd one, batch');
  t.true(E.isLeft(r) && r.left._tag === 'CommandFailed' && r.left.failedLine === 5, JSON.stringify(r));
  const links = JSON.parse(await sh(['ip', '-n', ns.name, '-j', 'link'])) as { ifname: string; flags: string[] }[];
  const up = (n: string) => links.find((l) => l.ifname === n)?.flags.includes('UP');
  t.true(links.some((l) => l.ifname === 'odd#1'), 'the odd command ran, in order');
  t.true(up('a0'), 'line 4 ran');
  t.false(up('b0'), 'nothing after the failing line 5 ran');
});
