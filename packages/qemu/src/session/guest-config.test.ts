// guestConfigFor on what the real plugins leave in a pod: eth0 from ptp
// (prefix routed through the gateway, kernel prefix routes deleted) and net1
// from bridge (kernel prefix routes), captured with ip -j from a pod made by
// Debian's /usr/lib/cni/{ptp,bridge} with host-local (dual stack), plus a
// second default route with a metric the way a runtime adds one.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { decodeLinks, decodeRoutes, type Link } from '@tapwire/endpoints';
import { renderGuestCmdline } from '../guest/index.js';
import { guestConfigFor, routesNotReplayed, type PodNic, type PodRoutes } from './guest-config.js';

const LINKS = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host"}]},
{"ifindex":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"d6:b5:76:e9:5f:a9","addr_info":[{"family":"inet","local":"10.61.0.2","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fd61::2","prefixlen":64,"scope":"global"},{"family":"inet6","local":"fe80::d4b5:76ff:fee9:5fa9","prefixlen":64,"scope":"link"}]},
{"ifindex":3,"ifname":"net1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"86:72:f3:93:09:73","addr_info":[{"family":"inet","local":"10.62.0.2","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fd62::2","prefixlen":64,"scope":"global"},{"family":"inet6","local":"fe80::8472:f3ff:fe93:973","prefixlen":64,"scope":"link"}]}]`;

const ROUTES = `[{"dst":"default","gateway":"10.61.0.1","dev":"eth0","flags":[]},
{"dst":"default","gateway":"10.62.0.1","dev":"net1","metric":100,"flags":[]},
{"dst":"10.61.0.0/24","gateway":"10.61.0.1","dev":"eth0","prefsrc":"10.61.0.2","flags":[]},
{"dst":"10.61.0.1","dev":"eth0","scope":"link","prefsrc":"10.61.0.2","flags":[]},
{"dst":"10.62.0.0/24","dev":"net1","protocol":"kernel","scope":"link","prefsrc":"10.62.0.2","flags":[]},
{"dst":"10.162.0.0/16","gateway":"10.62.0.1","dev":"net1","flags":[]},
{"dst":"fd61::1","dev":"eth0","prefsrc":"fd61::2","metric":1024,"flags":[],"pref":"medium"},
{"dst":"fd61::/64","gateway":"fd61::1","dev":"eth0","prefsrc":"fd61::2","metric":1024,"flags":[],"pref":"medium"},
{"dst":"fd62::/64","dev":"net1","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
{"dst":"fe80::/64","dev":"eth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
{"dst":"fe80::/64","dev":"net1","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
{"dst":"default","gateway":"fd61::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"},
{"type":"local","dst":"10.61.0.2","dev":"eth0","table":"local","protocol":"kernel","scope":"host","prefsrc":"10.61.0.2","flags":[]},
{"type":"multicast","dst":"ff00::/8","dev":"eth0","table":"local","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
{"dst":"10.99.0.0/16","gateway":"10.61.0.1","dev":"eth0","table":"100","flags":[]},
{"type":"blackhole","dst":"10.98.0.0/16","flags":[]}]`;

const decoded = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(JSON.stringify(e.left));
  return e.right;
};
const links = decoded(decodeLinks(LINKS));
const snapshot: PodRoutes = { routes: decoded(decodeRoutes(ROUTES)) };
const link = (name: string): Link => {
  const l = links.find((x) => x.name === name);
  if (l === undefined) throw new Error(name);
  return l;
};
const ETH0 = '02:00:00:00:00:01';
const NET1 = '02:00:00:00:00:02';
const nics: PodNic[] = [
  { link: link('eth0'), mac: ETH0, mtu: 1500 },
  { link: link('net1'), mac: NET1, mtu: 1500 },
];

test('addresses get noprefixroute exactly where the pod has no kernel prefix route (ptp), not where it has one (bridge)', (t) => {
  const c = guestConfigFor(snapshot, nics, []);
  t.deepEqual(c.nics, [
    { mac: ETH0, addresses: [{ cidr: '10.61.0.2/24', noPrefixRoute: true }, { cidr: 'fd61::2/64', noPrefixRoute: true }], mtu: 1500, name: 'eth0' },
    { mac: NET1, addresses: ['10.62.0.2/24', 'fd62::2/64'], mtu: 1500, name: 'net1' },
  ]);
  t.true(c.exactRouting);
});

test('every main-table route of the pod links, kernel ones as checks, in an order the guest can add them', (t) => {
  const c = guestConfigFor(snapshot, nics, []);
  t.deepEqual(c.routes, [
    // The kernel's (fe80::/64 is implied by each NIC's link-local address).
    { dst: '10.62.0.0/24', dev: NET1, src: '10.62.0.2', scope: 'link', kernel: true },
    { dst: 'fd62::/64', dev: NET1, kernel: true },
    // No gateway: on-link routes the gateways below need.
    { dst: '10.61.0.1/32', dev: ETH0, src: '10.61.0.2', scope: 'link' },
    { dst: 'fd61::1/128', dev: ETH0, src: 'fd61::2' },
    // Through a gateway; ip lists `default via` first, the guest could not add it first.
    { dst: '0.0.0.0/0', via: '10.61.0.1', dev: ETH0 },
    { dst: '10.61.0.0/24', via: '10.61.0.1', dev: ETH0, src: '10.61.0.2' },
    { dst: 'fd61::/64', via: 'fd61::1', dev: ETH0, src: 'fd61::2' },
    { dst: '::/0', via: 'fd61::1', dev: ETH0 },
    { dst: '0.0.0.0/0', via: '10.62.0.1', dev: NET1, metric: 100 },
    { dst: '10.162.0.0/16', via: '10.62.0.1', dev: NET1 },
  ]);
  t.deepEqual(routesNotReplayed(snapshot, nics), ['10.99.0.0/16 via 10.61.0.1 dev eth0 table 100', 'blackhole 10.98.0.0/16']);
});

test('the rendered line fits the kernel limit with room for more networks', (t) => {
  const line = renderGuestCmdline(guestConfigFor(snapshot, nics, ['10.61.0.1', '10.62.0.1']));
  if (E.isLeft(line)) return t.fail(JSON.stringify(line.left));
  t.log(`${line.right.length} bytes: ${line.right}`);
  t.true(line.right.length < 800);
  t.regex(line.right, / tapwire\.nic=02:00:00:00:00:01,10\.61\.0\.2\/24\+noprefixroute,fd61::2\/64\+noprefixroute,mtu=1500,name=eth0 /);
  t.regex(line.right, / tapwire\.route=0\.0\.0\.0\/0,via=10\.62\.0\.1,dev=2,metric=100 /);
});

test('a link without an IPv6 link-local address (IPv6 off) gets none in the guest either', (t) => {
  const noV6: PodRoutes = { ...snapshot, routes: snapshot.routes.filter((r) => !(r.dst === 'fe80::/64' && r.dev === 'net1')) };
  const c = guestConfigFor(noV6, nics, []);
  t.is(c.nics[1]?.linkLocal, false);
  t.is(c.nics[0]?.linkLocal, undefined);
});

test('a kernel prefix route with a metric of its own is replayed as a route, its address gets noprefixroute', (t) => {
  const metric: PodRoutes = {
    ...snapshot,
    routes: snapshot.routes.map((r) => (r.dst === '10.62.0.0/24' ? { ...r, metric: 50 } : r)),
  };
  const c = guestConfigFor(metric, nics, []);
  t.deepEqual(c.nics[1]?.addresses, [{ cidr: '10.62.0.2/24', noPrefixRoute: true }, 'fd62::2/64']);
  t.true(c.routes?.some((r) => r.dst === '10.62.0.0/24' && r.metric === 50 && r.kernel !== true && r.scope === 'link'));
});

test('a gateway no route of its link covers was added onlink: the guest adds it onlink too', (t) => {
  const onlink = decodeRoutes(JSON.stringify([{ dst: '10.199.0.0/16', gateway: '10.200.0.1', dev: 'eth0', flags: ['onlink'] }]));
  if (E.isLeft(onlink)) return t.fail();
  const c = guestConfigFor({ routes: [...snapshot.routes, ...onlink.right] }, nics, []);
  t.deepEqual(c.routes?.filter((r) => r.onlink === true), [{ dst: '10.199.0.0/16', via: '10.200.0.1', dev: ETH0, onlink: true }], 'gateways on a prefix or host route of their link are not onlink');
});
