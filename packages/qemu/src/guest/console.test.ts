import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { parseConsole, parseConsoleLine, splitConsoleLines, summarizeGuest, describeConsoleParseError, type GuestEvent } from './console.js';

// A real capture (QEMU 7.2, Debian 6.1 kernel, quiet), with its terminal controls.
const CAPTURE = [
  '\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\r',
  'Booting from ROM...\r',
  '\x1bc\x1b[?7l\x1b[2JTAPWIRE-START 6.1.0-56-amd64 uptime=3.33\r',
  'TAPWIRE-NET-UP pod0 52:54:00:12:34:56 10.0.2.15/24,fd00::5/64 mtu=1400 uptime=4.03\r',
  'TAPWIRE-QUEUES pod0 1\r',
  'TAPWIRE-ROUTE 0.0.0.0/0 ok\r',
  'TAPWIRE-ROUTE ::/0 fail ip: RTNETLINK answers: Network is unreachable\r',
  'TAPWIRE-PING 10.0.2.2 ok sent=3 recv=3 rtt_ms=9.970 round=1\r',
  'TAPWIRE-PING 10.0.2.99 fail rounds=3 sent=9 recv=0\r',
  'TAPWIRE-DONE uptime=16.59\r',
  '[    7.947544] reboot: Power down\r',
  '',
].join('\n');

test('a real capture parses into typed events, firmware noise ignored', (t) => {
  const r = parseConsole(CAPTURE);
  t.deepEqual(r, E.right<never, readonly GuestEvent[]>([
    { _tag: 'Start', kernel: '6.1.0-56-amd64', uptime: 3.33 },
    { _tag: 'NetUp', ifname: 'pod0', mac: '52:54:00:12:34:56', addresses: ['10.0.2.15/24', 'fd00::5/64'], mtu: 1400, uptime: 4.03 },
    { _tag: 'Queues', ifname: 'pod0', count: 1 },
    { _tag: 'RouteOk', dst: '0.0.0.0/0' },
    { _tag: 'RouteFail', dst: '::/0', detail: 'ip: RTNETLINK answers: Network is unreachable' },
    { _tag: 'PingOk', addr: '10.0.2.2', sent: 3, recv: 3, rttMs: 9.97, round: 1 },
    { _tag: 'PingFail', addr: '10.0.2.99', detail: 'rounds=3 sent=9 recv=0' },
    { _tag: 'Done', uptime: 16.59 },
  ]));
});

test('summarizeGuest: ok only with DONE, no errors, all routes and pings good', (t) => {
  const events = parseConsole(CAPTURE);
  if (E.isLeft(events)) return t.fail();
  const s = summarizeGuest(events.right);
  t.is(s.kernel, '6.1.0-56-amd64');
  t.deepEqual(s.queues, { pod0: 1 });
  t.is(s.nics.length, 1);
  t.is(s.pings.length, 2);
  t.true(s.done);
  t.false(s.ok);
  const good = events.right.filter((e) => e._tag !== 'PingFail' && e._tag !== 'RouteFail');
  t.true(summarizeGuest(good).ok);
  t.false(summarizeGuest(good.filter((e) => e._tag !== 'Done')).ok);
  t.false(summarizeGuest([...good, { _tag: 'GuestError', code: 'no-carrier', detail: 'eth0' }]).ok);
});

test('no addresses is "-"; errors carry code and free text', (t) => {
  t.deepEqual(parseConsoleLine('TAPWIRE-NET-UP eth1 02:00:00:00:00:01 - mtu=1500 uptime=5.00'), E.right({
    _tag: 'NetUp', ifname: 'eth1', mac: '02:00:00:00:00:01', addresses: [], mtu: 1500, uptime: 5,
  }));
  t.deepEqual(parseConsoleLine('TAPWIRE-ERROR nic-missing 52:54:00:12:34:56: no NIC with this MAC after 10s'), E.right({
    _tag: 'GuestError', code: 'nic-missing', detail: '52:54:00:12:34:56: no NIC with this MAC after 10s',
  }));
  t.deepEqual(parseConsoleLine('[    1.0] virtio_net virtio0 eth0: renamed'), E.right(null));
  t.deepEqual(parseConsoleLine('  TAPWIRE-DONE uptime=1.00'), E.right(null), 'a report starts its line');
});

test('a TAPWIRE- line off the grammar is an error with its line number and the expected form', (t) => {
  const bad: [string, RegExp][] = [
    ['TAPWIRE-NET-UP eth0 52:54:00:12:34:56 10.0.0.2/24 mtu=1500', /NET-UP <ifname>/],
    ['TAPWIRE-NET-UP eth0 52:54:00:12:34 10.0.0.2/24 mtu=1500 uptime=1.0', /with a MAC/],
    ['TAPWIRE-NET-UP eth0 52:54:00:12:34:56 10.0.0.2 mtu=1500 uptime=1.0', /ADDR\/PREFIX/],
    ['TAPWIRE-QUEUES eth0 two', /QUEUES <ifname> <count>/],
    ['TAPWIRE-PING 10.0.0.1 ok', /PING <addr> ok sent=/],
    ['TAPWIRE-PING 10.0.0.1 maybe', /PING <addr>/],
    ['TAPWIRE-PING host ok sent=1 recv=1 rtt_ms=1 round=1', /an IP address/],
    ['TAPWIRE-ROUTE default ok', /DST\/PREFIX/],
    ['TAPWIRE-ERROR Oops', /ERROR <code> <detail>/],
    ['TAPWIRE-DONE', /DONE uptime=/],
    ['TAPWIRE-DONE uptime=12', /DONE uptime=/],
    ['TAPWIRE-BOGUS x', /one of START, NET-UP/],
    ['TAPWIRE-', /one of/],
  ];
  for (const [line, expected] of bad) {
    const r = parseConsole(`noise\n${line}\nTAPWIRE-DONE uptime=1.00\n`);
    if (E.isRight(r)) {
      t.fail(`accepted ${line}`);
      continue;
    }
    t.is(r.left.lineNumber, 2, line);
    t.is(r.left.line, line);
    t.regex(r.left.expected, expected, line);
    t.regex(describeConsoleParseError(r.left), /^console line 2 /);
  }
});

test('splitConsoleLines keeps the unterminated tail for the next chunk', (t) => {
  t.deepEqual(splitConsoleLines('a\r\nTAPWIRE-DO'), { lines: ['a\r'], rest: 'TAPWIRE-DO' });
  t.deepEqual(splitConsoleLines('no newline'), { lines: [], rest: 'no newline' });
  t.deepEqual(splitConsoleLines('x\ny\n'), { lines: ['x', 'y'], rest: '' });
});
