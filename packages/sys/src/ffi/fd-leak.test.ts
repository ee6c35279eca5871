// Serial on purpose: the fd table is per process, so nothing else may open or
// close fds while we count.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireRoot } from '@tapwire/testkit';
import { describeSysError } from '../errors.js';
import { readDriverInfo } from './ethtool.js';
import { closeFds } from './fds.js';
import { openMacvtapQueues } from './macvtap.js';
import { openTapQueues } from './tap.js';
import { openFdCount, testNetns } from './testing-netns.js';

test.serial('1000 tap open/close rounds, with failures in between, leave the fd table as it was', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('tuntap', 'add', 'dev', 'mq0', 'mode', 'tap', 'vnet_hdr', 'multi_queue');
  const before = openFdCount();
  for (let i = 0; i < 1000; i++) {
    const r = openTapQueues(ns, 'mq0', { queues: 2, multiQueue: true, vnetHdr: true });
    if (E.isLeft(r)) return t.fail(describeSysError(r.left));
    t.deepEqual(closeFds(r.right), E.right(undefined));
    if (i % 10 === 0) t.like(openTapQueues(ns, 'mq0', { queues: 1, multiQueue: false, vnetHdr: true }), { _tag: 'Left', left: { _tag: 'TapQueueMismatch' } });
    if (i % 10 === 5) t.like(openTapQueues(ns, 'nosuch', { queues: 1, multiQueue: false, vnetHdr: true }), { _tag: 'Left', left: { _tag: 'LinkNotFound' } });
  }
  t.is(openFdCount(), before);
});

test.serial('200 macvtap open/close rounds and 1000 drvinfo reads leave the fd table as it was', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  await ip('link', 'add', 'link', 'va', 'name', 'mvt0', 'type', 'macvtap', 'mode', 'bridge');
  const before = openFdCount();
  // Closing a macvtap queue waits for an RCU grace period (~25 ms), hence 200.
  for (let i = 0; i < 200; i++) {
    const r = openMacvtapQueues(ns, 'mvt0', 2);
    if (E.isLeft(r)) return t.fail(describeSysError(r.left));
    t.deepEqual(closeFds(r.right), E.right(undefined));
    if (i % 10 === 0) t.like(openMacvtapQueues(ns, 'va', 1), { _tag: 'Left', left: { _tag: 'WrongLinkKind' } });
  }
  for (let i = 0; i < 1000; i++) t.true(E.isRight(readDriverInfo(ns, ['lo', 'va', 'vb', 'mvt0', 'nosuch'])));
  t.is(openFdCount(), before);
});
