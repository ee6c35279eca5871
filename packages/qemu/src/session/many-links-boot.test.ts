// A 48-link pod booted cold through launchPod: its guest network config is
// too long for the kernel command line, so the guest boots with
// tapwire.control=1 and gets the config as one control-channel batch; the 30
// slots of q35's pcie.0 do not hold 48 NICs, so the last ones sit on
// pcie-root-ports. The guest brings all 48 up and pings through three of
// them; the pod netns ends as it began. One boot (heavy under TCG).
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { netnsState } from '@tapwire/netmodel';
import { resolveNetns } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { buildGuestImage } from '../guest/index.js';
import { dadSettled } from '../hotplug/testing/pod.js';
import { describeLaunchError } from './errors.js';
import { launchPod } from './launch-pod.js';

const LINKS = 48;
const PINGED = [0, 23, 47];
const addr = (i: number, host: number): string => `10.${110 + (i >> 8)}.${i & 255}.${host}`;

test('a 48-link pod boots cold through launchPod: config over the control channel, NICs past pcie.0 on root ports, all up, pings through three', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  t.timeout(420_000);
  const image = await buildGuestImage()();
  if (E.isLeft(image)) return t.fail(`guest image: ${JSON.stringify(image.left)}`);
  const pod = await makeNetns(t, 'twmb');
  const peer = await makeNetns(t, 'twmc');
  // One ip -batch per netns for all 48 links.
  await sh(['ip', '-n', pod.name, '-batch', '-'], `${Array.from({ length: LINKS }, (_, i) => [`link add eth${i} type veth peer name p${i} netns ${peer.name}`, `addr add ${addr(i, 2)}/24 dev eth${i}`, `link set eth${i} up`]).flat().join('\n')}\n`);
  await sh(['ip', '-n', peer.name, '-batch', '-'], `${Array.from({ length: LINKS }, (_, i) => [`addr add ${addr(i, 1)}/24 dev p${i}`, `link set p${i} up`]).flat().join('\n')}\n`);
  const h = resolveNetns(pod.name);
  if (E.isLeft(h)) return t.fail(JSON.stringify(h.left));
  const ns = h.right;
  await dadSettled(ns);
  const before = await netnsState(ns)();

  const t0 = Date.now();
  const r = await launchPod(ns, {
    model: 'tcfilter',
    queues: 1,
    vhost: 'off',
    ping: PINGED.map((i) => addr(i, 1)),
    timeoutMs: 360_000,
    accel: 'tcg',
    dryRun: false,
    memMiB: 384,
    image: image.right,
  })();
  t.log(`launchPod of ${LINKS} links: ${Date.now() - t0} ms`);
  t.deepEqual(await netnsState(ns)(), before, 'the pod netns is exactly as it was');
  if (E.isLeft(r)) return t.fail(describeLaunchError(r.left));
  const res = r.right;
  for (const s of res.stages) t.log(`${s.stage}: ${s.status}${s.ms === undefined ? '' : ` ${s.ms} ms`}${s.note === undefined ? '' : ` (${s.note})`}`);
  t.true(res.argv.some((a) => a.includes('tapwire.control=1')), 'booted for the control channel');
  t.true(res.notes.some((n) => n.includes('control channel')), res.notes.join('; '));
  t.is(res.argv.filter((a) => a.startsWith('pcie-root-port,id=nicp')).length, 22, 'NICs past pcie.0 on root ports');
  t.is(new Set(res.guest?.nics.map((n) => n.mac)).size, LINKS, 'the guest reports all 48 NICs up');
  t.deepEqual(res.guest?.pings.map((p) => p._tag), PINGED.map(() => 'PingOk'), JSON.stringify(res.guest?.pings));
  t.true(res.ok, JSON.stringify(res.guest?.errors));
  t.is(res.nics.filter((n) => n.pciAddress !== undefined).length, LINKS, 'query-pci found every NIC, those behind the ports too');
});
