// A tap's owner and group reach the endpoint (and `inspect --json`) as
// numbers, whether or not passwd/group have names for them: ip prints
// "user":"nobody" for 65534, and only the scan's sysfs read gives the number.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns, spawnCount } from '@tapwire/sys';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { classify } from './classify.js';
import { decodeLinks } from './decode-ip.js';
import { endpointReport } from './report.js';
import { scan } from './scan.js';

test('ip\'s owner names are not decoded as ids (the decoder leaves them to the scan)', (t) => {
  const r = decodeLinks(JSON.stringify([{ ifindex: 3, ifname: 't0', flags: [], mtu: 1500, linkinfo: { info_kind: 'tun', info_data: { type: 'tap', user: 'cloudsdk', group: 'nogroup' } } }]));
  t.deepEqual(E.isRight(r) ? r.right[0]?.tun : undefined, { mode: 'tap', multiQueue: false, vnetHdr: false, persist: false, pi: false });
});

test('scan: owner with a passwd entry, owner without one, group only, neither - with no process spawned', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t, 'twids');
  const lines = [
    'tuntap add dev named mode tap user 65534',
    'tuntap add dev numeric mode tap user 4242 group 4243',
    'tuntap add dev grouponly mode tap group 65534',
    'tuntap add dev open mode tap',
    ...['named', 'numeric', 'grouponly', 'open'].map((d, i) => `addr add 10.41.${i}.2/24 dev ${d}`),
  ];
  await sh(['ip', '-n', ns.name, '-batch', '-'], `${lines.join('\n')}\n`);
  t.regex(await sh(['ip', '-n', ns.name, '-j', '-d', 'link', 'show', 'dev', 'named']), /"user":"nobody"/);
  const handle = resolveNetns(ns.name);
  if (E.isLeft(handle)) return t.fail(JSON.stringify(handle.left));
  const before = spawnCount();
  const r = await scan(handle.right)();
  t.is(spawnCount() - before, 0, 'the scan reads links and tun ids in-process (rtnetlink dumps, the netns sysfs)');
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  const ids = Object.fromEntries(classify(r.right).filter((e) => e.kind === 'tuntap').map((e) => {
    const rep = endpointReport(e);
    return [e.link.name, [rep.owner, rep.group]];
  }));
  t.deepEqual(ids, { named: [65534, null], numeric: [4242, 4243], grouponly: [null, 65534], open: [null, null] });
});
