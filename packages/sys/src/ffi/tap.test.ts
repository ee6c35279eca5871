import { readFileSync, readlinkSync } from 'node:fs';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireRoot } from '@tapwire/testkit';
import { describeSysError } from '../errors.js';
import { closeFds } from './fds.js';
import { openTapQueues } from './tap.js';
import { testNetns } from './testing-netns.js';

/** The tap a tun fd is attached to, as the kernel reports it in fdinfo. */
const attachedTo = (fd: number): string | undefined => /^iff:\s*(.*)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];

const keep = (t: { teardown: (f: () => void) => void }, r: E.Either<unknown, number[]>): void => {
  if (E.isRight(r)) t.teardown(() => void closeFds(r.right));
};

test('one queue on a single-queue tap', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('tuntap', 'add', 'dev', 'tp0', 'mode', 'tap', 'vnet_hdr');
  const r = openTapQueues(ns, 'tp0', { queues: 1, multiQueue: false, vnetHdr: true });
  keep(t, r);
  if (E.isLeft(r)) return t.fail(describeSysError(r.left));
  t.is(r.right.length, 1);
  const [fd] = r.right as [number];
  t.is(readlinkSync(`/proc/self/fd/${fd}`), '/dev/net/tun');
  t.is(attachedTo(fd), 'tp0');
  t.regex(await ip('-d', 'link', 'show', 'tp0'), /tun type tap pi off vnet_hdr on/);
});

test('vnetHdr false attaches without a vnet header', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('tuntap', 'add', 'dev', 'tp0', 'mode', 'tap');
  const r = openTapQueues(ns, 'tp0', { queues: 1, multiQueue: false, vnetHdr: false });
  keep(t, r);
  if (E.isLeft(r)) return t.fail(describeSysError(r.left));
  t.regex(await ip('-d', 'link', 'show', 'tp0'), /tun type tap pi off vnet_hdr off/);
});

test('two queues on a multi_queue tap', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('tuntap', 'add', 'dev', 'mq0', 'mode', 'tap', 'vnet_hdr', 'multi_queue');
  const r = openTapQueues(ns, 'mq0', { queues: 2, multiQueue: true, vnetHdr: true });
  keep(t, r);
  if (E.isLeft(r)) return t.fail(describeSysError(r.left));
  t.is(r.right.length, 2);
  t.deepEqual(r.right.map(attachedTo), ['mq0', 'mq0']);
  t.regex(await ip('-d', 'link', 'show', 'mq0'), /multi_queue numqueues 2 /);
});

test('multiQueue not matching how the tap was created is TapQueueMismatch, both ways', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('tuntap', 'add', 'dev', 'mq0', 'mode', 'tap', 'vnet_hdr', 'multi_queue');
  await ip('tuntap', 'add', 'dev', 'sq0', 'mode', 'tap', 'vnet_hdr');
  const single = openTapQueues(ns, 'mq0', { queues: 1, multiQueue: false, vnetHdr: true });
  keep(t, single);
  t.like(single, { _tag: 'Left', left: { _tag: 'TapQueueMismatch', netns: ns.spec, name: 'mq0', asked: 'single_queue', created: 'multi_queue' } });
  if (E.isLeft(single)) t.regex(describeSysError(single.left), /created multi-queue but was asked to open single-queue/);
  const multi = openTapQueues(ns, 'sq0', { queues: 2, multiQueue: true, vnetHdr: true });
  keep(t, multi);
  t.like(multi, { _tag: 'Left', left: { _tag: 'TapQueueMismatch', name: 'sq0', asked: 'multi_queue', created: 'single_queue' } });
  // Nothing stayed attached.
  t.regex(await ip('-d', 'link', 'show', 'mq0'), /numqueues 0 /);
});

test('a second fd on a single-queue tap is TapBusy and the first keeps working', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('tuntap', 'add', 'dev', 'sq0', 'mode', 'tap', 'vnet_hdr');
  const first = openTapQueues(ns, 'sq0', { queues: 1, multiQueue: false, vnetHdr: true });
  keep(t, first);
  const second = openTapQueues(ns, 'sq0', { queues: 1, multiQueue: false, vnetHdr: true });
  keep(t, second);
  t.like(second, { _tag: 'Left', left: { _tag: 'TapBusy', name: 'sq0' } });
  if (E.isRight(first)) t.is(attachedTo(first.right[0] as number), 'sq0');
  else t.fail(describeSysError(first.left));
});

test('only existing taps: a missing name creates nothing, veth and tun-mode links are refused', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  await ip('tuntap', 'add', 'dev', 'tn0', 'mode', 'tun');
  const opts = { queues: 1, multiQueue: false, vnetHdr: true };
  t.like(openTapQueues(ns, 'nosuch', opts), { _tag: 'Left', left: { _tag: 'LinkNotFound', link: 'nosuch' } });
  t.notRegex(await ip('-o', 'link'), /nosuch/);
  t.like(openTapQueues(ns, 'va', opts), { _tag: 'Left', left: { _tag: 'WrongLinkKind', found: 'a veth link' } });
  t.like(openTapQueues(ns, 'tn0', opts), { _tag: 'Left', left: { _tag: 'WrongLinkKind', found: 'a tun (layer 3) device' } });
});

test('bad queue counts and names are refused before anything opens', (t) => {
  const ns = { spec: 'never-entered', path: '/nonexistent', inode: 0 };
  t.like(openTapQueues(ns, 'tp0', { queues: 2, multiQueue: false, vnetHdr: true }), { _tag: 'Left', left: { _tag: 'BadInput', expected: '1 when multiQueue is false' } });
  for (const q of [0, -1, 1.5, 257, Number.NaN]) {
    t.like(openTapQueues(ns, 'tp0', { queues: q, multiQueue: true, vnetHdr: true }), { _tag: 'Left', left: { _tag: 'BadInput', what: 'tap queue count' } });
  }
  t.like(openTapQueues(ns, 'a/b', { queues: 1, multiQueue: false, vnetHdr: true }), { _tag: 'Left', left: { _tag: 'BadInput', what: 'link name' } });
});
