// runActions makes taps at once, between pipelined requests: only a queued
// request naming the same device (or deleting a group) is sent first. These
// check the order holds where it matters, on a real netns.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { inNetnsSync } from '@tapwire/sys';
import { requireRoot } from '@tapwire/testkit';
import type { Action } from './action.js';
import { runActions, withNetlink } from './netlink-run.js';
import { readNetns } from './state.js';
import { netnsFixture, right, stateOf } from './testing.js';

const tap = (name: string): Action => ({ _tag: 'TapAdd', name, multiQueue: false });

test('taps made between queued requests: each later request finds its tap, a queued delete of the same name goes first', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  const before = await stateOf(ns);
  /** Runs the actions in the netns; every one must have worked. */
  const run = (actions: readonly Action[], what: string): void => {
    const r = inNetnsSync(ns, () => withNetlink((sock) => runActions(sock, actions)));
    if (E.isLeft(r)) return void t.fail(`${what}: ${JSON.stringify(r.left)}`);
    t.deepEqual(r.right.flatMap((o, i) => (o.ok ? [] : [`${actions[i]?._tag}: ${JSON.stringify(o.cause)}`])), [], what);
  };
  // Three taps, each set up right after it is made: the ups are queued, the taps are not waited for.
  run([tap('rt0'), { _tag: 'LinkSet', dev: 'rt0', set: { mtu: 1400 } }, tap('rt1'), { _tag: 'LinkSet', dev: 'rt1', set: { mtu: 1300 } }, tap('rt2'), { _tag: 'NoqueueAdd', dev: 'rt2' }], 'make');
  // Delete and make again under the same name in one call: the delete must reach the kernel first.
  run([{ _tag: 'LinkDel', dev: 'rt1' }, tap('rt1'), { _tag: 'LinkSet', dev: 'rt1', set: { mtu: 1200 } }], 'delete and make again');
  run([{ _tag: 'LinkSet', dev: 'rt2', set: { group: 77 } }, { _tag: 'LinkDelGroup', group: 77 }, tap('rt2')], 'group delete and make again');
  const links = right(t, await readNetns(ns, 'netlink')()).links;
  t.deepEqual(
    links.filter((l) => l.name.startsWith('rt')).map((l) => [l.name, l.mtu]).sort(),
    [['rt0', 1400], ['rt1', 1200], ['rt2', 1500]],
  );
  run(['rt0', 'rt1', 'rt2'].map((dev): Action => ({ _tag: 'LinkDel', dev })), 'clean up');
  t.deepEqual(await stateOf(ns), before);
});
