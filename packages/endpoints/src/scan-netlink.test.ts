// The netlink scan against its oracle: the Snapshot from rtnetlink dumps is
// the Snapshot from `ip -j -d -batch`, on a netns holding every kind of link,
// address, route and neighbour tapwire meets; and it spawns no process.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns, spawnCount } from '@tapwire/sys';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { scan } from './scan.js';

const LINES = [
  'link add v0 type veth peer name v1',
  'link set v0 up',
  'link set v1 up',
  'link set v1 txqueuelen 0',
  'link set v1 alias hello-there',
  'addr add 10.1.0.2/24 broadcast 10.1.0.255 dev v0',
  'addr add 10.1.0.3/24 dev v0',
  'addr add 10.2.0.2/16 scope link dev v1',
  'addr add fd00::2/64 nodad dev v0',
  'route add default via 10.1.0.1 dev v0',
  'route add 10.9.0.0/16 via 10.1.0.1 dev v0 proto static metric 5',
  'route add 10.10.0.0/16 dev v0 table 100 proto dhcp src 10.1.0.2',
  'route add 10.11.0.7 dev v0 scope link',
  'route add blackhole 10.8.0.0/16',
  'route add unreachable 10.12.0.0/16 table 1000',
  'route add fd01::/64 via fd00::1 dev v0 metric 7',
  'neigh add 10.1.0.9 lladdr 02:00:00:00:00:09 dev v0 nud permanent',
  'neigh add fd00::9 lladdr 02:00:00:00:00:0a dev v0 nud reachable',
  'link add link v0 name mv0 type macvlan mode bridge',
  'link add link v0 name mt0 type macvtap mode vepa',
  'link set mt0 up',
  'tuntap add dev tp0 mode tap vnet_hdr multi_queue user 0 group 0',
  'tuntap add dev tp1 mode tap',
  'tuntap add dev tn0 mode tun',
  'link set tp1 up',
];

test('a netlink scan is the Snapshot an ip scan is, without a process', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  const other = await makeNetns(t);
  await sh(['ip', '-n', ns.name, '-batch', '-'], `${LINES.join('\n')}\n`);
  // A veth whose peer lives in another netns (link_netnsid).
  await sh(['ip', '-n', ns.name, 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1', 'netns', other.name]);
  const handle = resolveNetns(ns.name);
  if (E.isLeft(handle)) return t.fail(JSON.stringify(handle.left));
  // IPv6 addresses settle (local routes appear) for a moment after they are
  // added: compare against an ip scan that is the same before and after.
  for (let attempt = 1; ; attempt++) {
    const first = await scan(handle.right, { source: 'iproute2' })();
    const before = spawnCount();
    const viaNetlink = await scan(handle.right, { source: 'netlink' })();
    t.is(spawnCount() - before, 0);
    const oracle = await scan(handle.right, { source: 'iproute2' })();
    if (E.isLeft(first) || E.isLeft(oracle) || E.isLeft(viaNetlink)) return t.fail(JSON.stringify([oracle, viaNetlink]));
    if (JSON.stringify(first.right) !== JSON.stringify(oracle.right) && attempt < 10) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    t.true(viaNetlink.right.links.length >= 9, viaNetlink.right.links.map((l) => l.name).join());
    t.deepEqual(viaNetlink.right, oracle.right);
    return;
  }
});
