// Baselines (b) and (c) must do exactly what tapwire does, or the comparison
// means nothing: the hand-written commands are checked against netmodel's plan.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import type { Endpoint, Link } from '@tapwire/endpoints';
import { plan } from '@tapwire/netmodel';
import { attachCommands, detachCommands } from './hand-commands.js';

const link = (over: Partial<Link> = {}): Link => ({
  name: 'eth3',
  ifindex: 7,
  kind: 'veth',
  kindData: {},
  slaveKind: undefined,
  linkType: 'ether',
  mac: '02:00:00:00:00:07',
  mtu: 1400,
  txqlen: 1000,
  flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
  operstate: 'UP',
  parent: undefined,
  master: undefined,
  alias: undefined,
  numTxQueues: 1,
  numRxQueues: 1,
  addresses: [{ family: 'inet', local: '10.100.3.2', prefixlen: 24, scope: 'global', broadcast: '10.100.3.255' }],
  tun: undefined,
  ...over,
});

for (const queues of [1, 2, 8]) {
  test(`hand commands equal netmodel's tcfilter plan, ${queues} queue(s)`, (t) => {
    const l = link();
    const endpoint: Endpoint = { kind: 'veth', link: l, reason: 'test', skipped: undefined };
    const p = plan(endpoint, 'tcfilter', { queues });
    if (E.isLeft(p)) return t.fail(JSON.stringify(p.left));
    const hand = attachCommands(l, queues);
    t.deepEqual(
      p.right.phases.map((ph) => ({ tool: ph.tool, argv: ph.ops.map((o) => o.argv) })),
      [
        { tool: 'ip', argv: hand.ip },
        { tool: 'tc', argv: hand.tc },
      ],
    );
  });
}

test('hand detach removes the link ingress qdisc and the tap', (t) => {
  t.deepEqual(detachCommands(link()), { tc: [['qdisc', 'del', 'dev', 'eth3', 'ingress']], ip: [['link', 'del', 'dev', 'tw7']] });
});
