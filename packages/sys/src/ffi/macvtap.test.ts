import { fstatSync, readlinkSync } from 'node:fs';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireRoot, sh } from '@tapwire/testkit';
import { describeSysError } from '../errors.js';
import { closeFds } from './fds.js';
import { makedev, openMacvtapQueues } from './macvtap.js';
import { testNetns } from './testing-netns.js';
import type { NetnsHandle } from '../netns.js';

const keep = (t: { teardown: (f: () => void) => void }, r: E.Either<unknown, number[]>): void => {
  if (E.isRight(r)) t.teardown(() => void closeFds(r.right));
};

/** A netns with veth va/vb and macvtap mvt0 on va: lo=1 va=2 vb=3 mvt0=4 in every fresh netns. */
const netnsWithMacvtap = async (t: Parameters<typeof testNetns>[0]): Promise<{ ns: NetnsHandle; ip: (...a: string[]) => Promise<string> }> => {
  const n = await testNetns(t);
  await n.ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  await n.ip('link', 'add', 'link', 'va', 'name', 'mvt0', 'type', 'macvtap', 'mode', 'bridge');
  return n;
};

/** MAJOR:MINOR of mvt0's char device, read by `ip netns exec` (which remounts /sys for the netns). */
const devOf = async (ns: NetnsHandle): Promise<bigint> => {
  const ifindex = (await sh(['ip', 'netns', 'exec', ns.spec, 'cat', '/sys/class/net/mvt0/ifindex'])).trim();
  const [major, minor] = (await sh(['ip', 'netns', 'exec', ns.spec, 'cat', `/sys/class/net/mvt0/tap${ifindex}/dev`])).trim().split(':').map(Number);
  return makedev(major ?? -1, minor ?? -1);
};

test('two queues on a macvtap in a netns, each fd on its char device', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsWithMacvtap(t);
  const r = openMacvtapQueues(ns, 'mvt0', 2);
  keep(t, r);
  if (E.isLeft(r)) return t.fail(describeSysError(r.left));
  t.is(r.right.length, 2);
  const dev = await devOf(ns);
  for (const fd of r.right) {
    t.is(fstatSync(fd, { bigint: true }).rdev, dev);
    t.is(readlinkSync(`/proc/self/fd/${fd}`), '/macvtap-mvt0');
  }
});

test('same ifindex in two netns: each gets its own macvtap, never /dev/tap<ifindex>', async (t) => {
  if (!requireRoot(t)) return;
  const a = await netnsWithMacvtap(t);
  const b = await netnsWithMacvtap(t);
  const ifindexA = (await a.ip('-o', 'link', 'show', 'mvt0')).split(':')[0];
  t.is((await b.ip('-o', 'link', 'show', 'mvt0')).split(':')[0], ifindexA, 'the collision this test is about');
  const ra = openMacvtapQueues(a.ns, 'mvt0', 1);
  keep(t, ra);
  const rb = openMacvtapQueues(b.ns, 'mvt0', 1);
  keep(t, rb);
  if (E.isLeft(ra) || E.isLeft(rb)) return t.fail(JSON.stringify([ra, rb]));
  const devA = await devOf(a.ns);
  const devB = await devOf(b.ns);
  t.not(devA, devB);
  t.is(fstatSync(ra.right[0] as number, { bigint: true }).rdev, devA);
  t.is(fstatSync(rb.right[0] as number, { bigint: true }).rdev, devB);
});

test('non-macvtap and missing links are refused by name', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsWithMacvtap(t);
  t.like(openMacvtapQueues(ns, 'va', 1), { _tag: 'Left', left: { _tag: 'WrongLinkKind', name: 'va', expected: 'a macvtap or ipvtap link' } });
  t.like(openMacvtapQueues(ns, 'nosuch', 1), { _tag: 'Left', left: { _tag: 'LinkNotFound', netns: ns.spec, link: 'nosuch' } });
});

test('bad queue counts and names are refused before entering the netns', (t) => {
  const ns = { spec: 'never-entered', path: '/nonexistent', inode: 0 };
  for (const q of [0, 257, 2.5]) t.like(openMacvtapQueues(ns, 'mvt0', q), { _tag: 'Left', left: { _tag: 'BadInput', what: 'macvtap queue count' } });
  t.like(openMacvtapQueues(ns, '../x', 1), { _tag: 'Left', left: { _tag: 'BadInput', what: 'link name' } });
});
