import test from 'ava';
import { isIpv6LinkLocal, isNetworkAddress, nonUnicastReason, parseCidr, parseIp, parseMac } from './ip.js';

test('IPv4: dotted quad only, no leading zeros', (t) => {
  t.deepEqual(parseIp('10.77.0.1')?.bytes, [10, 77, 0, 1]);
  for (const s of ['10.77.0', '10.77.0.1.2', '10.77.0.01', '256.0.0.1', '10.77.0.1 ', '1e1.0.0.1', '']) t.is(parseIp(s), undefined, s);
});

test('IPv6: compressed forms, embedded IPv4 only at the end, no zone', (t) => {
  t.deepEqual(parseIp('::')?.bytes, new Array(16).fill(0));
  t.deepEqual(parseIp('FE80::1')?.text, 'fe80::1');
  t.deepEqual(parseIp('::ffff:10.0.0.1')?.bytes.slice(10), [0xff, 0xff, 10, 0, 0, 1]);
  t.is(parseIp('1:2:3:4:5:6:7:8')?.family, 6);
  t.is(parseIp('1:2:3:4:5:6:7::')?.family, 6);
  for (const s of ['1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', 'fe80::1%eth0', '12345::', '1.2.3.4::', 'g::1', '1:2:3:4:5:6:7::8']) {
    t.is(parseIp(s), undefined, s);
  }
});

test('CIDR, network addresses and address classes', (t) => {
  t.is(parseCidr('10.0.0.0/8')?.prefix, 8);
  t.is(parseCidr('10.0.0.0/08'), undefined);
  t.is(parseCidr('10.0.0.0/'), undefined);
  t.is(parseCidr('fd00::/129'), undefined);
  const net = (s: string): boolean | undefined => {
    const c = parseCidr(s);
    return c === undefined ? undefined : isNetworkAddress(c);
  };
  t.true(net('10.0.0.0/8'));
  t.false(net('10.0.0.1/8'));
  t.true(net('10.0.0.128/25'));
  t.false(net('10.0.0.129/25'));
  t.true(net('0.0.0.0/0'));
  t.true(net('fd00:0:0:1::/64'));
  t.false(net('fd00::1/64'));
  t.is(nonUnicastReason(parseIp('10.0.0.1')!), undefined);
  t.is(nonUnicastReason(parseIp('127.0.0.2')!), 'a loopback address');
  t.is(nonUnicastReason(parseIp('239.1.1.1')!), 'a multicast address');
  t.is(nonUnicastReason(parseIp('ff02::1')!), 'a multicast address');
  t.is(nonUnicastReason(parseIp('::')!), 'the unspecified address');
  t.true(isIpv6LinkLocal(parseIp('febf::1')!));
  t.false(isIpv6LinkLocal(parseIp('fec0::1')!));
  t.is(parseMac('52:54:00:AB:cd:EF'), '52:54:00:ab:cd:ef');
  t.is(parseMac('52:54:00:ab:cd'), undefined);
});
