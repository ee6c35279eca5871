import test from 'ava';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { renderGuestCmdline, GUEST_CMDLINE_MAX, type GuestConfig } from './cmdline.js';
import { parseGuestCmdline } from './cmdline-parse.js';
import { describeGuestCmdlineError, type GuestCmdlineError } from './errors.js';

const MAC = '52:54:00:12:34:56';
const MAC2 = '52:54:00:12:34:57';

const render = (c: GuestConfig): string => {
  const r = renderGuestCmdline(c);
  if (E.isLeft(r)) throw new Error(describeGuestCmdlineError(r.left));
  return r.right;
};
const refused = (c: GuestConfig): GuestCmdlineError => {
  const r = renderGuestCmdline(c);
  if (E.isRight(r)) throw new Error(`expected a refusal, got ${r.right}`);
  return r.left;
};

test('renders the pod: NICs, routes in order, pings, wait and stay', (t) => {
  const line = render({
    nics: [{ mac: '52:54:00:12:34:5A', addresses: ['10.77.0.2/24', 'FD77::2/64'], mtu: 1400, name: 'eth0' }],
    routes: [
      { dst: '169.254.1.1/32', dev: MAC.replace('56', '5a') },
      { dst: '0.0.0.0/0', via: '169.254.1.1', dev: '52:54:00:12:34:5a' },
      { dst: '::/0', via: 'fe80::1', dev: '52:54:00:12:34:5a' },
    ],
    ping: ['10.77.0.1', 'fd77::1'],
    waitSeconds: 20,
    stay: true,
  });
  t.is(
    line,
    'console=ttyS0 panic=1 quiet tapwire.wait=20 ' +
      'tapwire.nic=52:54:00:12:34:5a,10.77.0.2/24,fd77::2/64,mtu=1400,name=eth0 ' +
      // A route names its NIC by position: a MAC per route would eat the line.
      'tapwire.route=169.254.1.1/32,dev=1 ' +
      'tapwire.route=0.0.0.0/0,via=169.254.1.1,dev=1 ' +
      'tapwire.route=::/0,via=fe80::1,dev=1 ' +
      'tapwire.ping=10.77.0.1 tapwire.ping=fd77::1 tapwire.stay=1',
  );
});

test('the minimal line only names the console and panic behaviour', (t) => {
  t.is(render({ nics: [] }), 'console=ttyS0 panic=1 quiet');
  t.is(render({ nics: [{ mac: MAC }], quiet: false, console: 'ttyS1,115200n8', panicSeconds: -1 }), `console=ttyS1,115200n8 panic=-1 tapwire.nic=${MAC}`);
});

test('bad MACs are refused by field, naming what was expected', (t) => {
  for (const mac of ['52:54:00:12:34', '52-54-00-12-34-56', '01:00:5e:00:00:01', '00:00:00:00:00:00', `${MAC},mtu=9000`, `${MAC} x`]) {
    const e = refused({ nics: [{ mac }] });
    t.is(e._tag, 'InvalidGuestValue', mac);
    if (e._tag === 'InvalidGuestValue') {
      t.is(e.subject, 'nic #1');
      t.is(e.field, 'mac');
      t.is(e.input, mac);
      t.regex(e.expected, /unicast MAC/);
    }
  }
});

test('addresses must be unicast ADDR/PREFIX with nothing that breaks the line', (t) => {
  const bad = [
    '10.77.0.2',
    '10.77.0.2/33',
    '10.77.0.256/24',
    '010.77.0.2/24',
    '10.77.0.2/024',
    '10.77.0.2/24,mtu=1',
    '10.77.0.2/24 quiet',
    '"10.77.0.2/24"',
    'fd77::2/129',
    'fd77::2%eth0/64',
    'fd77:::2/64',
    '1.2.3.4::/64',
    '127.0.0.1/8',
    '224.0.0.1/4',
    '0.0.0.0/0',
    '::/0',
    '::1/128',
    'ff02::1/64',
  ];
  for (const a of bad) {
    const e = refused({ nics: [{ mac: MAC, addresses: [a] }] });
    t.like(e, { _tag: 'InvalidGuestValue', subject: 'nic #1', field: 'addresses[0]', input: a }, a);
  }
  t.is(render({ nics: [{ mac: MAC, addresses: ['::ffff:10.0.0.1/96', '2001:db8::1/64', '169.254.3.4/16'] }] }).split(' ').at(-1),
    `tapwire.nic=${MAC},::ffff:10.0.0.1/96,2001:db8::1/64,169.254.3.4/16`);
});

test('MTU range depends on IPv6; names are interface names', (t) => {
  t.like(refused({ nics: [{ mac: MAC, mtu: 67 }] }), { field: 'mtu', expected: 'an integer from 68 to 65535' });
  t.like(refused({ nics: [{ mac: MAC, mtu: 1500.5 }] }), { field: 'mtu' });
  t.like(refused({ nics: [{ mac: MAC, mtu: 1000, addresses: ['fd00::1/64'] }] }), { field: 'mtu', expected: 'at least 1280 on a NIC with an IPv6 address' });
  t.notThrows(() => render({ nics: [{ mac: MAC, mtu: 1000, addresses: ['10.0.0.1/24'] }] }));
  for (const name of ['', 'a,b', 'a b', 'a=b', 'sixteen-chars-xx', '-eth', 'twtmp1', 'eth/0']) {
    t.like(refused({ nics: [{ mac: MAC, name }] }), { _tag: 'InvalidGuestValue', field: 'name', input: name }, name);
  }
});

test('a MAC or a name used twice is refused naming both NICs', (t) => {
  t.deepEqual(refused({ nics: [{ mac: MAC }, { mac: MAC.toUpperCase() }] }), {
    _tag: 'DuplicateGuestValue',
    field: 'mac',
    value: MAC,
    subjects: ['nic #1', 'nic #2'],
  });
  t.like(refused({ nics: [{ mac: MAC, name: 'eth0' }, { mac: MAC2, name: 'eth0' }] }), { _tag: 'DuplicateGuestValue', field: 'name' });
});

test('routes: network destination, gateway of the same family, dev one of the NICs', (t) => {
  const nics = [{ mac: MAC }];
  t.like(refused({ nics, routes: [{ dst: 'default', via: '10.0.0.1' }] }), { subject: 'route #1', field: 'dst' });
  t.like(refused({ nics, routes: [{ dst: '10.0.0.1/24', via: '10.0.0.1' }] }), { field: 'dst', expected: 'a network address with no bits set after /24' });
  t.like(refused({ nics, routes: [{ dst: 'fd00::1/64', via: 'fd00::ff' }] }), { field: 'dst' });
  t.like(refused({ nics, routes: [{ dst: '0.0.0.0/0', via: 'fd00::1' }] }), { field: 'via', expected: 'an IPv4 gateway, like the destination 0.0.0.0/0' });
  t.like(refused({ nics, routes: [{ dst: '0.0.0.0/0' }] }), { field: 'via' });
  t.like(refused({ nics, routes: [{ dst: '::/0', via: 'fe80::1' }] }), { field: 'dev' });
  t.like(refused({ nics, routes: [{ dst: '0.0.0.0/0', via: '10.0.0.1', dev: MAC2 }] }), { field: 'dev', expected: "the MAC of one of the config's NICs" });
  t.like(refused({ nics, routes: [{ dst: '0.0.0.0/0', via: '10.0.0.1,dev=x' }] }), { field: 'via' });
  t.is(render({ nics, routes: [{ dst: '10.0.0.0/8', via: '192.168.1.1' }] }).split(' ').at(-1), 'tapwire.route=10.0.0.0/8,via=192.168.1.1');
});

test('ping targets are plain unicast addresses', (t) => {
  for (const a of ['10.0.0.1/32', 'example.com', '0.0.0.0', 'fe80::1', 'ff02::1', '10.0.0.1 tapwire.stay=1', '']) {
    t.like(refused({ nics: [], ping: [a] }), { subject: 'ping #1', field: 'address', input: a }, a);
  }
});

test('other options are range-checked', (t) => {
  t.like(refused({ nics: [], waitSeconds: 0 }), { field: 'waitSeconds' });
  t.like(refused({ nics: [], panicSeconds: 1.5 }), { field: 'panicSeconds' });
  t.like(refused({ nics: [], console: 'ttyS0 init=/bin/sh' }), { field: 'console' });
});

test('a line over the kernel limit is refused with its length', (t) => {
  const nics = Array.from({ length: 60 }, (_, i) => ({ mac: `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`, addresses: ['2001:db8:1234:5678:9abc:def0:1234:5678/64'] }));
  const e = refused({ nics });
  t.is(e._tag, 'GuestCmdlineTooLong');
  if (e._tag === 'GuestCmdlineTooLong') {
    t.true(e.length > GUEST_CMDLINE_MAX);
    t.regex(describeGuestCmdlineError(e), /at most 2047/);
  }
});

test('parseGuestCmdline reads what guest/init reads, and refuses unknown tapwire keys', (t) => {
  const line = `console=ttyS0 panic=1 quiet root=/dev/x tapwire.nic=${MAC},10.0.0.2/24,mtu=1500 tapwire.route=0.0.0.0/0,via=10.0.0.1 tapwire.ping=10.0.0.1`;
  const r = parseGuestCmdline(line);
  t.deepEqual(r, E.right({
    nics: [{ mac: MAC, addresses: ['10.0.0.2/24'], mtu: 1500 }],
    routes: [{ dst: '0.0.0.0/0', via: '10.0.0.1' }],
    ping: ['10.0.0.1'],
    quiet: true,
    console: 'ttyS0',
    panicSeconds: 1,
  }));
  t.like(parseGuestCmdline('tapwire.cmd=reboot'), { left: { _tag: 'InvalidGuestValue', field: 'key', input: 'tapwire.cmd' } });
  t.like(parseGuestCmdline(`tapwire.nic=${MAC},bogus`), { left: { field: 'item', input: 'bogus' } });
  t.like(parseGuestCmdline(`tapwire.nic=${MAC},10.0.0.300/24`), { left: { field: 'addresses[0]' } });
});

// Arbitrary valid configs: rendering yields blank-separated words with no
// quotes, every tapwire value splits back into the same items, and parsing
// the line and rendering again is the identity.
const hex2 = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0'));
const mac = fc.tuple(fc.integer({ min: 0, max: 127 }).map((n) => (n * 2).toString(16).padStart(2, '0')), fc.array(hex2, { minLength: 5, maxLength: 5 }))
  .map(([a, rest]) => [a, ...rest].join(':'))
  .filter((m) => m !== '00:00:00:00:00:00');
const v4 = fc.tuple(fc.integer({ min: 1, max: 223 }).filter((a) => a !== 127), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((o) => o.join('.'));
const v6 = fc.array(fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)), { minLength: 7, maxLength: 7 }).map((h) => `fd00:${h.join(':')}`);
const cidr = fc.oneof(
  fc.tuple(v4, fc.integer({ min: 1, max: 32 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(v6, fc.integer({ min: 1, max: 128 })).map(([a, p]) => `${a}/${p}`),
);
const config = fc.uniqueArray(mac, { minLength: 1, maxLength: 4 }).chain((macs) =>
  fc.record({
    nics: fc.tuple(...macs.map((m) => fc.record({ mac: fc.constant(m), addresses: fc.array(cidr, { maxLength: 3 }), mtu: fc.integer({ min: 1280, max: 65535 }) }))),
    routes: fc.array(fc.record({ dst: fc.constant('0.0.0.0/0'), via: v4, dev: fc.constantFrom(...macs) }), { maxLength: 3 }),
    ping: fc.array(fc.oneof(v4, v6), { maxLength: 3 }),
    stay: fc.boolean(),
  }),
);

test('property: rendered lines are unambiguous and round-trip through parseGuestCmdline', (t) => {
  fc.assert(
    fc.property(config, (c) => {
      const line = render(c);
      t.false(/["'\t\n]/.test(line), 'no quotes, tabs or newlines');
      for (const word of line.split(' ')) t.regex(word, /^(quiet|[a-z.]+=\S+)$/);
      const nicWords = line.split(' ').filter((w) => w.startsWith('tapwire.nic='));
      t.is(nicWords.length, c.nics.length);
      for (const [i, w] of nicWords.entries()) {
        const items = w.slice('tapwire.nic='.length).split(',');
        t.deepEqual(items, [c.nics[i]?.mac, ...(c.nics[i]?.addresses ?? []), `mtu=${c.nics[i]?.mtu}`]);
      }
      const back = parseGuestCmdline(line);
      t.true(E.isRight(back));
      if (E.isRight(back)) t.is(render(back.right), line);
    }),
    { numRuns: 200 },
  );
});
