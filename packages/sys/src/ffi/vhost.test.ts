import { existsSync, readlinkSync } from 'node:fs';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { closeFds } from './fds.js';
import { openVhostNet } from './vhost.js';

test('/dev/vhost-net: DeviceMissing when absent, one fd per queue when present', (t) => {
  const r = openVhostNet(2);
  if (!existsSync('/dev/vhost-net')) {
    t.like(r, { _tag: 'Left', left: { _tag: 'DeviceMissing', path: '/dev/vhost-net' } });
    if (E.isLeft(r) && r.left._tag === 'DeviceMissing') t.regex(r.left.hint, /modprobe vhost_net/);
    return;
  }
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  t.teardown(() => void closeFds(r.right));
  t.deepEqual(r.right.map((fd) => readlinkSync(`/proc/self/fd/${fd}`)), ['/dev/vhost-net', '/dev/vhost-net']);
});

test('vhost-net queue count is checked', (t) => {
  t.like(openVhostNet(0), { _tag: 'Left', left: { _tag: 'BadInput', what: 'vhost-net queue count' } });
});
