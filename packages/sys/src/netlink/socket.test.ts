import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireRoot } from '@tapwire/testkit';
import { inNetnsSync } from '../ffi/netns-sync.js';
import { testNetns } from '../ffi/testing-netns.js';
import { RTM } from './requests.js';
import { openNetlinkSocket, type Outcome } from './socket.js';
import { createPersistentTap } from './tun-create.js';

test('a tap made by ioctls, then configured by one pipelined send, acks each message; an error carries the kernel text', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  const r = inNetnsSync(ns, () => {
    const made = createPersistentTap({ name: 'tw9', vnetHdr: true, multiQueue: false, owner: 0 });
    if (E.isLeft(made)) return made;
    const sock = openNetlinkSocket();
    if (E.isLeft(sock)) return sock;
    try {
      return sock.right.exchange([
        { _tag: 'SetLink', dev: 'tw9', alias: 'hello' },
        { _tag: 'SetLink', dev: 'tw9', mtu: 1400 },
        { _tag: 'SetLink', dev: 'no-such-dev', up: true },
        { _tag: 'SetLink', dev: 'tw9', up: true },
        { _tag: 'SetLink', dev: 'tw9', mtu: 10 },
      ]);
    } finally {
      sock.right.close();
    }
  });
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  const outcomes: readonly Outcome[] = r.right;
  t.deepEqual(outcomes.map((o) => o.errno), [0, 0, 19, 0, 22]);
  t.regex(outcomes[4]?.message ?? '', /mtu/i);
  const link = JSON.parse(await ip('-j', '-d', 'link', 'show', 'tw9')) as { ifalias?: string; mtu: number; flags: string[]; linkinfo?: { info_data?: { pi?: boolean; vnet_hdr?: boolean; persist?: boolean; user?: string } } }[];
  t.is(link[0]?.ifalias, 'hello');
  t.is(link[0]?.mtu, 1400);
  t.true(link[0]?.flags.includes('UP'));
  t.like(link[0]?.linkinfo?.info_data, { vnet_hdr: true, persist: true, pi: false });
});

test('a tap name already taken is refused (EBUSY), the device is left alone', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  const r = inNetnsSync(ns, () => createPersistentTap({ name: 'v0', vnetHdr: true, multiQueue: false }));
  t.true(E.isLeft(r) && r.left._tag === 'SyscallFailed' && r.left.code === 'EBUSY');
  t.regex(await ip('-o', 'link', 'show', 'v0'), /v0@v1/);
});

test('a link dump lists every link; ifindex resolves names in the socket netns', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  const r = inNetnsSync(ns, () => {
    const sock = openNetlinkSocket();
    if (E.isLeft(sock)) return sock;
    try {
      const d = sock.right.dump({ _tag: 'Dump', type: RTM.GETLINK, family: 0 });
      return E.map((ms: readonly unknown[]) => ({ count: ms.length, v0: sock.right.ifindex('v0'), none: sock.right.ifindex('nope') }))(d);
    } finally {
      sock.right.close();
    }
  });
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  t.is(r.right.count, 3);
  t.is(r.right.v0, Number((await ip('-o', 'link', 'show', 'v0')).split(':')[0]));
  t.is(r.right.none, undefined);
});
