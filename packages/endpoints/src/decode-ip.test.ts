import test from 'ava';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeLinks, decodeRoutes, decodeScanOutput } from './decode-ip.js';

test('a decoding failure names the field and what was expected', (t) => {
  const r = decodeLinks(JSON.stringify([{ ifindex: 1, ifname: 'lo', flags: [], mtu: 65536 }, { ifindex: 2, ifname: 'x', flags: [], mtu: '1500' }]));
  t.true(E.isLeft(r));
  if (E.isLeft(r)) {
    t.is(r.left.input, 'ip addr show');
    t.true(r.left.problems.some((p) => p.startsWith('ip addr show[1].mtu: expected number')), r.left.problems.join('\n'));
  }
});

test('non-JSON and missing documents are typed errors', (t) => {
  const r = decodeScanOutput(['[]', 'oops']);
  t.true(E.isLeft(r));
  if (E.isLeft(r)) t.regex(r.left.problems[0] ?? '', /ip route show table all: not JSON/);
  const m = decodeScanOutput(['[]', '[]']);
  t.true(E.isLeft(m) && /no output/.test(m.left.problems[0] ?? ''));
});

test('default routes keep their family from the gateway', (t) => {
  const r = decodeRoutes(JSON.stringify([{ dst: 'default', gateway: 'fe80::1', dev: 'eth0' }, { dst: 'default', gateway: '10.0.0.1' }]));
  t.deepEqual(E.isRight(r) ? r.right.map((x) => x.family) : [], ['inet6', 'inet']);
});

test('decoders never throw on arbitrary input', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
      const r = decodeScanOutput([text, text, text]);
      return E.isLeft(r) || E.isRight(r);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});
