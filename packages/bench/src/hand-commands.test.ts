// Baselines (b) and (c) must do exactly what tapwire does, or the comparison
// means nothing: the hand-written commands are checked against netmodel's
// plan (attach) and against what detachAll reports it ran (detach).
import test from 'ava';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan, type Endpoint, type Link } from '@tapwire/endpoints';
import { testLink } from '@tapwire/endpoints/testing';
import { attachAll, DETACH_GROUP, detachAll, plan, renderCommand } from '@tapwire/netmodel';
import { requireRoot } from '@tapwire/testkit';
import { attachCommands, detachCommands, handTargets } from './hand-commands.js';
import { makePod } from './pod.js';

// eth3 with ifindex 7: the expectations below name eth3 and its tap tw7.
const link = (over: Partial<Link> = {}): Link => testLink({ name: 'eth3', ...over });

// txqlen 1000: a veth ip made; 0 and none (ip prints no txqlen of 0): what CNI
// plugins make, where attach notes the txqueuelen in its record.
for (const [queues, txqlen] of [[1, 1000], [2, 1000], [8, 1000], [2, 0], [2, undefined]] as const) {
  test(`hand commands equal netmodel's tcfilter plan, ${queues} queue(s), txqlen ${txqlen ?? 'none'}`, (t) => {
    const l = link({ txqlen });
    const endpoint: Endpoint = { kind: 'veth', link: l, reason: 'test', skipped: undefined };
    const p = plan(endpoint, 'tcfilter', { queues });
    if (E.isLeft(p)) return t.fail(JSON.stringify(p.left));
    const hand = attachCommands(l, queues);
    t.deepEqual(p.right.phases.map((ph) => ({ tool: ph.tool, argv: ph.ops.map((o) => o.argv) })), hand);
  });
}

test('hand detach: one tap is deleted by name, several by moving them into the detach group', (t) => {
  t.deepEqual(detachCommands([link()]), { tc: [['qdisc', 'del', 'dev', 'eth3', 'ingress']], ip: [['link', 'del', 'dev', 'tw7']] });
  const g = String(DETACH_GROUP);
  t.deepEqual(detachCommands([link(), link({ name: 'eth4', ifindex: 9 })]), {
    tc: [['qdisc', 'del', 'dev', 'eth3', 'ingress'], ['qdisc', 'del', 'dev', 'eth4', 'ingress']],
    ip: [['link', 'set', 'dev', 'tw7', 'group', g], ['link', 'set', 'dev', 'tw9', 'group', g], ['link', 'del', 'group', g]],
  });
});

for (const [links, txqlen] of [[1, 1000], [3, 1000], [1, 0], [3, 0]] as const) {
  test.serial(`hand detach runs what detachAll runs, ${links} link(s), txqueuelen ${txqlen}`, async (t) => {
    if (!requireRoot(t)) return;
    const pod = await makePod(links);
    t.teardown(pod.dispose);
    // 0: the links CNI plugins make; detach then puts back what the ingress qdisc raised.
    if (txqlen !== 1000) for (const l of pod.links) await execa('ip', ['-n', pod.name, 'link', 'set', 'dev', l, 'txqueuelen', String(txqlen)]);
    const snap = await scan(pod.ns)();
    if (E.isLeft(snap)) return t.fail(JSON.stringify(snap.left));
    const attached = await attachAll(pod.ns, classify(snap.right), 'tcfilter', { queues: 2 })();
    if (E.isLeft(attached)) return t.fail(JSON.stringify(attached.left));
    const detached = await detachAll(pod.ns)();
    if (E.isLeft(detached)) return t.fail(JSON.stringify(detached.left));
    const hand = detachCommands(handTargets(snap.right.links));
    t.deepEqual([...detached.right.commands].sort(), [...hand.tc.map((a) => renderCommand('tc', a)), ...hand.ip.map((a) => renderCommand('ip', a))].sort());
  });
}
