// The routing contract, pure: inet_ntop text, the route words of the
// command line, the guest's TAPWIRE-RT/ROUTING reports, and the typed error
// a launch gets when the guest's routing is not what it was told.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { decodeRoutes } from '@tapwire/endpoints';
import { parseGuestCmdline } from './cmdline-parse.js';
import { renderGuestCmdline, type GuestConfig } from './cmdline.js';
import { parseConsole, summarizeGuest } from './console.js';
import { formatIp, networkOf, parseCidr, parseIp } from './ip.js';
import { parseRouteText, routingEntryOf, routingTable } from './route-table.js';
import { describeGuestRoutingError, guestRoutingError } from './routing-error.js';

const MAC = '52:54:00:12:34:56';
const MAC2 = '52:54:00:12:34:57';

test('formatIp writes what inet_ntop writes', (t) => {
  const cases: [string, string][] = [
    ['FD61:0:0:0:0:0:0:1', 'fd61::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
    ['fd00:0000::000a', 'fd00::a'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['fe80:0:0:0::', 'fe80::'],
    ['10.0.0.1', '10.0.0.1'],
  ];
  for (const [input, want] of cases) {
    const ip = parseIp(input);
    t.is(ip === undefined ? undefined : formatIp(ip), want, input);
  }
});

test('networkOf clears the host bits', (t) => {
  const net = (s: string) => {
    const c = parseCidr(s);
    return c === undefined ? undefined : networkOf(c).text;
  };
  t.is(net('10.61.0.2/24'), '10.61.0.0/24');
  t.is(net('10.61.0.2/32'), '10.61.0.2/32');
  t.is(net('fd61::2/64'), 'fd61::/64');
  t.is(net('fd61:1:2:3:4:5:6:7/50'), 'fd61:1:2::/50');
});

const render = (c: GuestConfig): string => {
  const r = renderGuestCmdline(c);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return r.right;
};
const refused = (c: GuestConfig) => {
  const r = renderGuestCmdline(c);
  return E.isLeft(r) ? r.left : undefined;
};

test('NIC words: noprefixroute per address, linklocal=off', (t) => {
  const line = render({
    nics: [{ mac: MAC, addresses: [{ cidr: '10.61.0.2/24', noPrefixRoute: true }, '10.62.0.2/24', { cidr: 'fd61::2/64', noPrefixRoute: false }], linkLocal: false }],
  });
  t.true(line.endsWith(`tapwire.nic=${MAC},10.61.0.2/24+noprefixroute,10.62.0.2/24,fd61::2/64,linklocal=off`), line);
});

test('route words: NIC by position, src, metric, scope, onlink, kernel, addresses as ip prints them', (t) => {
  const nics = [{ mac: MAC }, { mac: MAC2 }];
  const line = render({
    nics,
    routes: [
      { dst: 'FD61:0::/64', dev: MAC2, kernel: true },
      { dst: '10.61.0.1/32', dev: MAC, src: '10.61.0.2', scope: 'link' },
      { dst: '0.0.0.0/0', via: '10.61.0.1', dev: MAC, metric: 100 },
      { dst: '10.9.0.0/16', via: '10.99.0.1', dev: MAC, onlink: true },
      { dst: '::/0', via: 'FD61:0:0::1', dev: MAC2, src: 'fd61::2' },
    ],
    exactRouting: true,
  });
  t.true(
    line.endsWith(
      [
        'tapwire.route=fd61::/64,dev=2,kernel',
        'tapwire.route=10.61.0.1/32,dev=1,src=10.61.0.2,scope=link',
        'tapwire.route=0.0.0.0/0,via=10.61.0.1,dev=1,metric=100',
        'tapwire.route=10.9.0.0/16,via=10.99.0.1,dev=1,onlink',
        'tapwire.route=::/0,via=fd61::1,dev=2,src=fd61::2',
        'tapwire.routing=exact',
      ].join(' '),
    ),
    line,
  );
  const back = parseGuestCmdline(line);
  t.true(E.isRight(back));
  if (E.isRight(back)) t.is(render(back.right), line, 'round trip');
  if (E.isRight(back)) t.like(back.right.routes?.[0], { dst: 'fd61::/64', dev: MAC2, kernel: true });
});

test('route words are refused naming the field', (t) => {
  const nics = [{ mac: MAC }];
  t.like(refused({ nics, routes: [{ dst: '10.0.0.0/24', via: '10.0.0.1', dev: MAC, kernel: true }] }), { field: 'via', expected: 'no gateway on a route the kernel makes' });
  t.like(refused({ nics, routes: [{ dst: '10.0.0.0/24', kernel: true }] }), { field: 'dev', expected: 'the MAC of the NIC the kernel makes this route on' });
  t.like(refused({ nics, routes: [{ dst: '10.0.0.0/24', dev: MAC, src: 'fd00::1' }] }), { field: 'src' });
  t.like(refused({ nics, routes: [{ dst: '10.0.0.0/24', dev: MAC, metric: -1 }] }), { field: 'metric' });
  t.like(refused({ nics, routes: [{ dst: '10.0.0.0/24', dev: MAC, metric: 2 ** 32 }] }), { field: 'metric' });
  t.like(refused({ nics, routes: [{ dst: '10.0.0.0/24', dev: MAC, scope: 'site' as 'link' }] }), { field: 'scope' });
  t.like(refused({ nics, routes: [{ dst: '10.0.0.0/24', dev: MAC, onlink: true }] }), { field: 'onlink' });
  t.like(parseGuestCmdline(`tapwire.nic=${MAC} tapwire.route=10.0.0.0/24,dev=2`), { left: { field: 'dev', input: '2' } });
  t.like(parseGuestCmdline(`tapwire.nic=${MAC} tapwire.route=10.0.0.0/24,dev=1,scope=site`), { left: { field: 'item' } });
  t.like(parseGuestCmdline('tapwire.routing=loose'), { left: { field: 'tapwire.routing' } });
});

test("busybox's and iproute2's route lines read the same as the pod's JSON", (t) => {
  // busybox ip 1.35 (two blanks before src/metric, no proto), iproute2 6.1 text, iproute2 JSON.
  const busybox = [
    [4, '10.71.0.1 dev eth0 scope link  src 10.71.0.2 '],
    [4, '10.62.0.0/24 dev net1 scope link  src 10.62.0.2 '],
    [4, 'default via 10.62.0.1 dev net1  metric 100 '],
    [6, 'fd61::1 dev eth0  src fd61::2  metric 1024 '],
    [6, 'default via fd61::1 dev eth0  metric 1024 '],
    [6, 'fe80::/64 dev eth0  metric 256 '],
    [6, 'multicast ff00::/8 dev eth0  metric 256 '],
  ] as const;
  const iproute2 = [
    [4, '10.71.0.1 dev eth0 scope link src 10.71.0.2'],
    [4, '10.62.0.0/24 dev net1 proto kernel scope link src 10.62.0.2'],
    [4, 'default via 10.62.0.1 dev net1 metric 100'],
    [6, 'fd61::1 dev eth0 src fd61::2 metric 1024 pref medium'],
    [6, 'default via fd61::1 dev eth0 metric 1024 pref medium'],
    [6, 'fe80::/64 dev eth0 proto kernel metric 256 pref medium'],
  ] as const;
  const json = decodeRoutes(JSON.stringify([
    { dst: '10.71.0.1', dev: 'eth0', scope: 'link', prefsrc: '10.71.0.2', flags: [] },
    { dst: '10.62.0.0/24', dev: 'net1', protocol: 'kernel', scope: 'link', prefsrc: '10.62.0.2', flags: [] },
    { dst: 'default', gateway: '10.62.0.1', dev: 'net1', metric: 100, flags: [] },
    { dst: 'fd61::1', dev: 'eth0', prefsrc: 'fd61::2', metric: 1024, flags: [], pref: 'medium' },
    { dst: 'default', gateway: 'fd61::1', dev: 'eth0', metric: 1024, flags: [], pref: 'medium' },
    { dst: 'fe80::/64', dev: 'eth0', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
    { type: 'multicast', dst: 'ff00::/8', dev: 'eth0', table: 'local', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
  ]));
  if (E.isLeft(json)) return t.fail();
  const fromJson = routingTable(json.right.map(routingEntryOf));
  t.deepEqual(routingTable(busybox.map(([f, l]) => parseRouteText(f, l))), fromJson);
  t.deepEqual(routingTable(iproute2.map(([f, l]) => parseRouteText(f, l))), fromJson);
  t.is(fromJson.length, 6);
  t.true(fromJson.includes('IPv4 10.71.0.1 dev eth0 src 10.71.0.2 metric 0 scope link'));
  t.is(parseRouteText(4, '10.9.0.0/16 via 10.99.0.1 dev eth0 onlink')?.onlink, true);
  t.is(parseRouteText(6, 'nexthop via fe80::1 dev eth0 weight 1'), undefined);
});

// A guest told a route it cannot add (its gateway is not on-link) and a
// kernel route it does not get, with an address that makes a route nobody
// told it: its pings pass, its verdict must not.
const BROKEN = [
  'TAPWIRE-START 6.1.0-57-amd64 uptime=3.76',
  'TAPWIRE-NET-UP eth0 7e:69:5d:c7:c0:77 10.0.2.15/24 mtu=1500 uptime=4.25',
  'TAPWIRE-QUEUES eth0 1',
  'TAPWIRE-ROUTE 0.0.0.0/0 ok',
  'TAPWIRE-ROUTE 0.0.0.0/0 fail ip -4 route add 0.0.0.0/0 via 10.9.0.1 dev eth0 metric 100 scope global: ip: RTNETLINK answers: Network is unreachable',
  'TAPWIRE-RT 4 default via 10.0.2.2 dev eth0',
  'TAPWIRE-RT 4 10.0.2.0/24 dev eth0 scope link src 10.0.2.15',
  'TAPWIRE-RT 6 multicast ff00::/8 dev eth0 metric 256',
  'TAPWIRE-ERROR route-missing IPv4 10.5.0.0/24 dev eth0 src 10.5.0.2 metric 0 scope link',
  'TAPWIRE-ERROR route-extra IPv4 10.0.2.0/24 dev eth0 src 10.0.2.15 metric 0 scope link',
  'TAPWIRE-ROUTING mismatch missing=1 extra=1',
  'TAPWIRE-PING 10.0.2.2 ok sent=3 recv=3 rtt_ms=9.970 round=1',
  'TAPWIRE-DONE uptime=6.50',
].join('\r\n');

test('TAPWIRE-RT and TAPWIRE-ROUTING parse; a mismatch fails the guest whatever the pings said', (t) => {
  const events = parseConsole(BROKEN);
  if (E.isLeft(events)) return t.fail(JSON.stringify(events.left));
  const s = summarizeGuest(events.right);
  t.deepEqual(s.table.map((r) => [r.family, r.entry?.dst]), [[4, 'default'], [4, '10.0.2.0/24'], [6, undefined]]);
  t.like(s.routing, { ok: false, missing: 1, extra: 1 });
  t.deepEqual(s.pings.map((p) => p._tag), ['PingOk']);
  t.false(s.ok);
  t.like(parseConsole('TAPWIRE-ROUTING ok routes=7'), { right: [{ _tag: 'Routing', ok: true, routes: 7 }] });
  t.like(parseConsole('TAPWIRE-ROUTING fine'), { left: { _tag: 'MalformedConsoleLine' } });
  t.like(parseConsole('TAPWIRE-RT 5 default via 10.0.0.1'), { left: { _tag: 'MalformedConsoleLine' } });
});

test('guestRoutingError names each route and what is wrong with it', (t) => {
  const events = parseConsole(BROKEN);
  if (E.isLeft(events)) return t.fail();
  const e = guestRoutingError(summarizeGuest(events.right));
  t.deepEqual(e?.problems, [
    { route: 'IPv4 0.0.0.0/0 via 10.9.0.1 dev eth0 metric 100 scope global', problem: 'not-added', detail: 'ip: RTNETLINK answers: Network is unreachable' },
    { route: 'IPv4 10.5.0.0/24 dev eth0 src 10.5.0.2 metric 0 scope link', problem: 'missing', detail: 'told to the guest but not in its routing table' },
    { route: 'IPv4 10.0.2.0/24 dev eth0 src 10.0.2.15 metric 0 scope link', problem: 'extra', detail: 'in the guest routing table but not in the pod' },
  ]);
  if (e !== undefined) t.regex(describeGuestRoutingError(e), /^the guest does not have the pod's routing: route IPv4 0\.0\.0\.0\/0 via 10\.9\.0\.1 .* could not be added \(ip: RTNETLINK answers: Network is unreachable\); /);
  const fine = parseConsole('TAPWIRE-ROUTE 0.0.0.0/0 ok\nTAPWIRE-ROUTING ok routes=1\nTAPWIRE-DONE uptime=1.00');
  if (E.isRight(fine)) t.is(guestRoutingError(summarizeGuest(fine.right)), undefined);
});
