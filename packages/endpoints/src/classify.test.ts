import test from 'ava';
import fc from 'fast-check';
import { classify, classifyLink, isPciBusInfo } from './classify.js';
import { ENDPOINT_KINDS } from './endpoint.js';
import type { Link, Snapshot } from './model.js';
import { arbLink, testLink as link } from './testing.js';

const snap = (links: Link[], over: Partial<Snapshot> = {}): Snapshot => ({
  links,
  routes: [],
  neighbours: [],
  drivers: {},
  pci: {},
  vhostUserSockets: {},
  tunIds: {},
  ...over,
});

const tun = (mode: 'tap' | 'tun', multiQueue = false) => ({ mode, multiQueue, vnetHdr: true, persist: true, pi: false });

test('PCI bus-info has three colon-separated parts', (t) => {
  t.true(isPciBusInfo('0000:00:03.0'));
  t.false(isPciBusInfo('tap'));
  t.false(isPciBusInfo(''));
  t.false(isPciBusInfo('usb-0000:00:14.0-1'));
});

test('rules apply in order: loopback, physical, vhost-user, then kind', (t) => {
  const lo = link({ name: 'lo', kind: undefined, linkType: 'loopback', flags: ['LOOPBACK', 'UP'] });
  const nic = link({ name: 'ens3', kind: undefined });
  const vhu = link({ name: 'vhu0', kind: undefined });
  const s = snap([lo, nic, vhu], {
    drivers: { ens3: { driver: 'virtio_net', busInfo: '0000:00:03.0' }, lo: { driver: 'x', busInfo: '0000:00:04.0' } },
    pci: { '0000:00:03.0': { vendor: '0x1af4', device: '0x1000', boundDriver: 'virtio-pci' } },
    vhostUserSockets: { vhu0: '/tmp/vhostuser_10.0.0.2/vhu.sock', ens3: '/tmp/x' },
    tunIds: {},
  });
  const [a, b, c] = classify(s);
  t.is(a?.kind, 'loopback');
  t.is(a?.skipped, 'loopback');
  t.is(b?.kind, 'physical');
  t.regex(b?.reason ?? '', /virtio_net/);
  if (b?.kind === 'physical') t.deepEqual(b.pci, { bdf: '0000:00:03.0', driver: 'virtio_net', vendor: '0x1af4', device: '0x1000', boundDriver: 'virtio-pci' });
  t.is(c?.kind, 'vhost-user');
  t.is(c?.skipped, undefined);
});

test('kinds map to endpoints, tun mode is an unsupported L3 device', (t) => {
  const cases: [Partial<Link>, string][] = [
    [{ kind: 'veth' }, 'veth'],
    [{ kind: undefined }, 'veth'],
    [{ kind: 'macvlan', kindData: { mode: 'bridge' } }, 'macvlan'],
    [{ kind: 'macvtap' }, 'macvtap'],
    [{ kind: 'ipvlan' }, 'ipvlan'],
    [{ kind: 'vlan', kindData: { id: 100 } }, 'vlan'],
    [{ kind: 'tun', tun: tun('tap') }, 'tuntap'],
    [{ kind: 'tun', tun: tun('tun') }, 'unsupported'],
    [{ kind: 'bridge' }, 'unsupported'],
    [{ kind: 'vxlan' }, 'unsupported'],
  ];
  for (const [over, kind] of cases) {
    const l = link(over);
    t.is(String(classifyLink(l, snap([l])).kind), kind, JSON.stringify(over));
  }
  const br = link({ kind: 'wireguard' });
  const e = classifyLink(br, snap([br]));
  t.regex(e.reason, /wireguard/);
  t.is(e.skipped, e.reason);
});

test('a link with no address is kept and says why it is skipped', (t) => {
  const l = link({ addresses: [] });
  const e = classifyLink(l, snap([l]));
  t.is(e.kind, 'veth');
  t.is(e.skipped, 'no addresses');
});

test('a tap named by the caller is kind tap and attachable without addresses', (t) => {
  const tap = link({ name: 'tap0', kind: 'tun', tun: tun('tap', true), addresses: [] });
  const veth = link({ name: 'v0' });
  const [a, b] = classify(snap([tap, veth]), { asTap: ['tap0', 'v0'] });
  t.is(a?.kind, 'tap');
  t.is(a?.skipped, undefined);
  if (a?.kind === 'tap') t.true(a.multiQueue);
  t.is(b?.kind, 'veth');
  t.regex(b?.skipped ?? '', /not a tap/);
});

test('links tapwire made are skipped by name of their owner', (t) => {
  const l = link({ name: 'tw3', kind: 'tun', tun: tun('tap'), alias: 'tapwire:tcfilter:eth0' });
  t.regex(classifyLink(l, snap([l])).skipped ?? '', /made by tapwire/);
});

test('classification is total: any decoded link yields a typed, explained endpoint', (t) => {
  fc.assert(
    fc.property(
      fc.array(arbLink, { maxLength: 8 }),
      fc.dictionary(fc.string(), fc.record({ driver: fc.string(), busInfo: fc.oneof(fc.string(), fc.constant('0000:00:03.0')) })),
      fc.array(fc.string()),
      (links, drivers, asTap) => {
        const out = classify(snap(links, { drivers }), { asTap });
        return (
          out.length === links.length &&
          out.every((e) => (ENDPOINT_KINDS as readonly string[]).includes(e.kind) && typeof e.reason === 'string' && e.reason.length > 0)
        );
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});
