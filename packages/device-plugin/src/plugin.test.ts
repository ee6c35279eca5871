// The plugin against the kubelet stand-in, in a throwaway netns that plays
// the host: a veth there is the lower device. Registration, ListAndWatch,
// Allocate, health that follows a flapping and vanishing lower device, a
// kubelet restart, and cleanup on stop. Nothing touches the real host netns.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { describeDevicePluginError } from './errors.js';
import { startDevicePlugin } from './main.js';
import { until, type KubeletStandIn } from './testing/kubelet.js';
import { addVeth, macvtaps, RESOURCE, rig, tempDir } from './testing/rig.js';

const lastList = (k: KubeletStandIn) => k.latest(RESOURCE)?.lists.at(-1)?.devices;
const allHealth = (k: KubeletStandIn, h: string) => (lastList(k) ?? []).length > 0 && (lastList(k) ?? []).every((d) => d.health === h);

test('registers, lists, allocates /dev/tapN, follows the lower device, survives a kubelet restart, cleans up', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'ip')) return;
  const { ns, kubelet, plugin, dir } = await rig(t);
  t.log(`registered after ${await until('registration', () => kubelet.latest(RESOURCE) !== undefined)} ms`);
  const reg = kubelet.latest(RESOURCE);
  t.like(reg?.request, { version: 'v1beta1', endpoint: 'macvtap.network.kubevirt.io_dp.sock', resource_name: RESOURCE });
  t.true(existsSync(join(dir, 'macvtap.network.kubevirt.io_dp.sock')));
  await until('first list', () => lastList(kubelet) !== undefined);
  t.deepEqual(lastList(kubelet), ['dpMvp0', 'dpMvp1', 'dpMvp2', 'dpMvp3'].map((ID) => ({ ID, health: 'Healthy' })));
  t.like(await kubelet.call(RESOURCE, 'GetDevicePluginOptions', {}), { right: { pre_start_required: false } });
  t.true(E.isRight(await kubelet.call(RESOURCE, 'PreStartContainer', { devices_ids: ['dpMvp0'] })));

  // Allocate: two containers, one device each.
  const alloc = await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp0'] }, { devices_ids: ['dpMvp1'] }] });
  if (E.isLeft(alloc)) return t.fail(alloc.left.details);
  const made = await macvtaps(ns.name);
  t.deepEqual(made.map((l) => [l.ifname, l.link]).sort(), [['dpMvp0', 'lowr'], ['dpMvp1', 'lowr']]);
  const tap0 = `/dev/tap${made.find((l) => l.ifname === 'dpMvp0')?.ifindex}`;
  t.like(alloc.right.container_responses[0], { envs: { MACVTAP_NETWORK_KUBEVIRT_IO_DP: 'dpMvp0' }, devices: [{ container_path: tap0, host_path: tap0, permissions: 'rw' }] });
  t.true(existsSync(tap0), `${tap0} (devtmpfs makes it for the macvtap)`);
  const unknown = await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp9'] }] });
  t.true(E.isLeft(unknown) && /not a device of macvtap.network.kubevirt.io\/dp/.test(unknown.left.details));
  // A second Allocate of a device still in the host makes it anew (a reset, as upstream).
  t.true(E.isRight(await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp1'] }] })));

  // The lower device flaps: peer down => LOWERLAYERDOWN => Unhealthy, streamed; and back.
  await sh(['ip', '-n', ns.name, 'link', 'set', 'peer', 'down']);
  t.log(`Unhealthy streamed ${await until('Unhealthy', () => allHealth(kubelet, 'Unhealthy'))} ms after the lower device went down`);
  await sh(['ip', '-n', ns.name, 'link', 'set', 'peer', 'up']);
  t.log(`Healthy streamed ${await until('Healthy', () => allHealth(kubelet, 'Healthy'))} ms after it came back`);

  // The lower device goes away (its macvtaps with it) and comes back.
  await sh(['ip', '-n', ns.name, 'link', 'del', 'lowr']);
  await until('Unhealthy after delete', () => allHealth(kubelet, 'Unhealthy'));
  const gone = await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp2'] }] });
  t.true(E.isLeft(gone) && /lower device "lowr"/.test(gone.left.details));
  await addVeth(ns.name);
  await until('Healthy after re-create', () => allHealth(kubelet, 'Healthy'));
  t.true(E.isRight(await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp2'] }] })));

  // Kubelet restarts: it clears the directory and makes kubelet.sock anew.
  const before = plugin.registrations();
  const at = Date.now();
  await kubelet.restart();
  await until('re-registration', () => plugin.registrations() > before && kubelet.registrations.length > 1);
  t.log(`re-registered ${Date.now() - at} ms after the kubelet restart`);
  t.true(existsSync(join(dir, 'macvtap.network.kubevirt.io_dp.sock')));
  await until('list on the new stream', () => kubelet.latest(RESOURCE)?.lists.length !== 0);
  t.true(E.isRight(await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp3'] }] })));
  // dpMvp0/1 went with the deleted lower device; dpMvp2/3 are still ours.
  t.deepEqual((await macvtaps(ns.name)).map((l) => l.ifname).sort(), ['dpMvp2', 'dpMvp3']);

  // Our socket removed behind our back (kubelet.sock unchanged): served and registered again.
  const regs = plugin.registrations();
  rmSync(join(dir, 'macvtap.network.kubevirt.io_dp.sock'));
  await until('re-registration after losing our socket', () => plugin.registrations() > regs);
  t.true(existsSync(join(dir, 'macvtap.network.kubevirt.io_dp.sock')));

  // Stop: every macvtap the plugin made and still holds is deleted, its socket removed.
  await plugin.stop();
  t.deepEqual(await macvtaps(ns.name), []);
  t.false(existsSync(join(dir, 'macvtap.network.kubevirt.io_dp.sock')));
});

test('bad DP_MACVTAP_CONF is a typed error at start, before anything is served', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t, 'twdp');
  const dir = tempDir(t);
  const r = await startDevicePlugin({ dir, netns: ns.path, config: '[{"name":"x","lowerDevice":"eth0","mode":"bridged"}]', log: (l) => t.log(l) })();
  t.true(E.isLeft(r) && r.left._tag === 'BadConfig');
  if (E.isLeft(r)) t.regex(describeDevicePluginError(r.left), /DP_MACVTAP_CONF\[0\]\.mode: expected a macvtap mode/);
  // A plugin directory that does not exist: ServeFailed naming the socket.
  const nodir = await startDevicePlugin({ dir: join(dir, 'missing'), netns: ns.path, config: '[{"name":"x","lowerDevice":"lo"}]', log: (l) => t.log(l) })();
  t.true(E.isLeft(nodir) && nodir.left._tag === 'ServeFailed' && nodir.left.socket === join(dir, 'missing', 'macvtap.network.kubevirt.io_x.sock'));
});

test('[] offers physical links and bonds only: none in a netns with a veth', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t, 'twdp');
  await addVeth(ns.name);
  const dir = tempDir(t);
  const lines: string[] = [];
  const r = await startDevicePlugin({ dir, netns: ns.path, config: '[]', log: (l) => lines.push(l) })();
  if (E.isLeft(r)) return t.fail(describeDevicePluginError(r.left));
  t.teardown(() => r.right.stop());
  t.deepEqual(r.right.states, []);
  t.true(lines.some((l) => /no resources to offer/.test(l)));
});

test('two resources: each registered on its own socket; concurrent Allocates; a missing lower device is Unhealthy from the start', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, kubelet, plugin } = await rig(t, 0, [{ name: 'a', lowerDevice: 'lowr', capacity: 3 }, { name: 'b', lowerDevice: 'lowr', mode: 'private', capacity: 3 }, { name: 'c', lowerDevice: 'absent0' }]);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => `macvtap.network.kubevirt.io/${n}`) as [string, string, string];
  await until('three registrations with lists', () => [a, b, c].every((r) => (kubelet.latest(r)?.lists.length ?? 0) > 0));
  t.deepEqual(kubelet.registrations.map((r) => r.request.endpoint).sort(), ['a', 'b', 'c'].map((n) => `macvtap.network.kubevirt.io_${n}.sock`));
  t.true(kubelet.latest(c)?.lists.at(-1)?.devices.every((d) => d.health === 'Unhealthy'));
  const [ra, rb, rc] = await Promise.all([
    kubelet.call(a, 'Allocate', { container_requests: [{ devices_ids: ['aMvp0', 'aMvp1'] }] }),
    kubelet.call(b, 'Allocate', { container_requests: [{ devices_ids: ['bMvp2'] }] }),
    kubelet.call(c, 'Allocate', { container_requests: [{ devices_ids: ['cMvp0'] }] }),
  ]);
  t.true(E.isRight(ra) && E.isRight(rb));
  t.true(E.isLeft(rc) && /lower device "absent0"/.test(rc.left.details));
  const made = await macvtaps(ns.name);
  t.deepEqual(made.map((l) => [l.ifname, l.link]).sort(), [['aMvp0', 'lowr'], ['aMvp1', 'lowr'], ['bMvp2', 'lowr']]);
  const info = JSON.parse(await sh(['ip', '-n', ns.name, '-j', '-d', 'link', 'show', 'dev', 'bMvp2'])) as { linkinfo: { info_data: { mode: string } } }[];
  t.is(info[0]?.linkinfo.info_data.mode, 'private');
  await plugin.stop();
  t.deepEqual(await macvtaps(ns.name), []);
});
