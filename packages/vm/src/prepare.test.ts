// prepareNics in a real netns: a veth attached with tcfilter (2 queues)
// becomes one tap NicSpec with the tap's ifindex and two open queue fds,
// numbered for a child from fd 3; close() closes them; a missing device is
// named; an aborted signal opens nothing.
import { fstatSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan } from '@tapwire/endpoints';
import { attachAll, detach, netnsState, type Attachment } from '@tapwire/netmodel';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { inheritFds, prepareNics } from './prepare.js';

const isOpen = (fd: number): boolean => {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

const pod = async (t: ExecutionContext): Promise<{ ns: NetnsHandle; name: string }> => {
  const made = await makeNetns(t, 'twpn');
  const peer = await makeNetns(t, 'twpp');
  await sh(['ip', '-n', made.name, '-batch', '-'], `link add eth0 type veth peer name p0 netns ${peer.name}\naddr add 10.94.0.2/24 dev eth0\nlink set eth0 up\n`);
  const ns = resolveNetns(made.name);
  if (E.isLeft(ns)) throw new Error(JSON.stringify(ns.left));
  return { ns: ns.right, name: made.name };
};

test('attachments become NicSpecs with open queue fds, numbered for the child, closed by close()', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, name } = await pod(t);
  const before = await netnsState(ns)();
  const snap = await scan(ns)();
  if (E.isLeft(snap)) return t.fail(JSON.stringify(snap.left));
  const endpoints = classify(snap.right);
  const attached = await attachAll(ns, endpoints, 'tcfilter', { queues: 2 })();
  if (E.isLeft(attached)) return t.fail(JSON.stringify(attached.left));
  const attachments: readonly Attachment[] = attached.right;
  t.teardown(async () => {
    for (const a of attachments) await detach(ns, a)();
  });
  const tap = attachments[0]?.tapName ?? '';
  const ifindex = Number((await sh(['ip', '-n', name, '-j', 'link', 'show', 'dev', tap])).match(/"ifindex":(\d+)/)?.[1]);

  const r = await prepareNics(ns, endpoints, attachments, {})();
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  const p = r.right;
  t.deepEqual(p.nics, [
    { id: 'net0', link: 'eth0', mac: attachments[0]?.guestMac, mtu: 1500, queues: 2, backend: { kind: 'tap', device: tap, ifindex, multiQueue: true, vnetHdr: true } },
  ]);
  t.is(p.fds[0]?.queueFds.length, 2);
  t.deepEqual(p.fds[0]?.vhostFds, []);
  t.true(p.fds[0]?.queueFds.every(isOpen));
  t.deepEqual(p.held.map((h) => h.what), [`tap ${tap} queue 0`, `tap ${tap} queue 1`]);
  const inherited = inheritFds(p.fds);
  t.deepEqual(inherited.positions, [{ queueFds: [3, 4], vhostFds: [] }]);
  t.deepEqual(inherited.inherited, p.fds[0]?.queueFds);
  p.close();
  t.false(p.fds[0]?.queueFds.some(isOpen), 'close() closed every fd');
  p.close();

  const ac = new AbortController();
  ac.abort('changed my mind');
  const aborted = await prepareNics(ns, endpoints, attachments, { signal: ac.signal })();
  t.like(aborted, { left: { _tag: 'Aborted', reason: 'changed my mind' } });

  for (const a of attachments) await detach(ns, a)();
  const gone = await prepareNics(ns, endpoints, attachments, {})();
  t.like(gone, { left: { _tag: 'DeviceNotFound', device: tap } });
  t.deepEqual(await netnsState(ns)(), before);
});
