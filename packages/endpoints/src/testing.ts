// Test fixtures for Link, shared by the tests of every package so the shape of
// a plausible link is written once. Reached only through the
// '@tapwire/endpoints/testing' subpath (never index.ts), so fast-check stays
// out of the runtime import graph.
import fc from 'fast-check';
import type { Address, Link } from './model.js';

/**
 * A plausible veth as `ip -j link` + `ip -j addr` would report it. Tests
 * depend on these defaults (e.g. netmodel's plan goldens on the MAC, the MTU
 * and ifindex 7, classify's on the address 10.0.0.2): change them only with
 * those expectations.
 */
export const testLink = (over: Partial<Link> = {}): Link => ({
  name: 'eth0',
  ifindex: 7,
  kind: 'veth',
  kindData: {},
  slaveKind: undefined,
  linkType: 'ether',
  mac: '52:54:00:12:34:56',
  mtu: 1450,
  txqlen: 1000,
  flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
  operstate: 'UP',
  parent: undefined,
  master: undefined,
  alias: undefined,
  numTxQueues: 1,
  numRxQueues: 1,
  addresses: [{ family: 'inet', local: '10.0.0.2', prefixlen: 24, scope: 'global' }],
  tun: undefined,
  ...over,
});

/** Mostly plausible, sometimes anything: code under test must handle both. */
export const maybe = <T>(plausible: fc.Arbitrary<T>, anything: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: anything });

const hex2 = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0'));
export const realMac = fc.array(hex2, { minLength: 6, maxLength: 6 }).map((b) => b.join(':'));
/** A short token of the characters names, addresses and routes are made of. */
export const word = fc.stringMatching(/^[a-z0-9.:/-]{1,12}$/);

const arbAddress: fc.Arbitrary<Address> = fc.record(
  {
    family: fc.constantFrom('inet' as const, 'inet6' as const),
    local: maybe(fc.ipV4(), fc.string()),
    prefixlen: fc.nat(128),
    scope: maybe(fc.constantFrom('global', 'link', 'host'), fc.string()),
    broadcast: fc.option(maybe(fc.ipV4(), fc.string()), { nil: undefined }),
  },
  { requiredKeys: ['family', 'local', 'prefixlen', 'scope'] },
);

/** Any link the decoder could hand over: plausible most of the time, anything the types allow otherwise. */
export const arbLink: fc.Arbitrary<Link> = fc.record({
  name: maybe(word, fc.string({ maxLength: 20 })),
  ifindex: maybe(fc.integer({ min: 1, max: 100000 }), fc.integer()),
  kind: fc.option(fc.oneof(fc.constantFrom('veth', 'tun', 'macvlan', 'macvtap', 'ipvlan', 'vlan', 'bridge'), fc.string()), { nil: undefined }),
  kindData: fc.dictionary(fc.string(), fc.jsonValue()),
  slaveKind: fc.option(fc.string(), { nil: undefined }),
  linkType: fc.constantFrom('ether', 'loopback', 'none', 'ipip'),
  mac: fc.option(maybe(realMac, fc.string()), { nil: undefined }),
  mtu: maybe(fc.integer({ min: 68, max: 65535 }), fc.integer()),
  txqlen: fc.option(fc.integer(), { nil: undefined }),
  flags: fc.array(fc.constantFrom('UP', 'LOOPBACK', 'BROADCAST', 'LOWER_UP', 'NOARP')),
  operstate: fc.string(),
  parent: fc.option(fc.record({ name: fc.option(fc.string(), { nil: undefined }), ifindex: fc.option(fc.nat(), { nil: undefined }), otherNetns: fc.boolean(), netnsid: fc.nat() }, { requiredKeys: ['name', 'ifindex', 'otherNetns'] }), { nil: undefined }),
  master: fc.option(fc.string(), { nil: undefined }),
  alias: fc.option(fc.oneof(fc.string(), fc.string().map((s) => `tapwire:${s}`)), { nil: undefined }),
  numTxQueues: fc.option(fc.nat(), { nil: undefined }),
  numRxQueues: fc.option(fc.nat(), { nil: undefined }),
  addresses: fc.array(arbAddress, { maxLength: 6 }),
  tun: fc.option(
    fc.record({
      mode: fc.constantFrom('tap' as const, 'tun' as const, 'unknown' as const),
      multiQueue: fc.boolean(),
      vnetHdr: fc.boolean(),
      persist: fc.boolean(),
      pi: fc.boolean(),
    }),
    { nil: undefined },
  ),
});
