// The handoff to the CNI half, as Multus does it: kubelet Allocates a device,
// the macvtap CNI gets its ID as `deviceID` and moves that macvtap into the
// pod as net1. The CNI runs as an executable in the netns playing the host
// (nsenter), exactly where the plugin made the device.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';
import { until } from './testing/kubelet.js';
import { links, macvtaps, RESOURCE, rig } from './testing/rig.js';

// @tapwire/cni is no dependency of this package (the CLI joins them); the test
// runs its built executable entry by path, as a runtime runs a CNI binary.
const CNI_MACVTAP = fileURLToPath(new URL('../../cni/dist/entry/macvtap.js', import.meta.url));

const cni = (command: 'ADD' | 'DEL', hostNs: string, podNs: string, conf: object) =>
  execa('nsenter', [`--net=${hostNs}`, '--', process.execPath, CNI_MACVTAP], {
    env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: command, CNI_CONTAINERID: 'handoff', CNI_NETNS: podNs, CNI_IFNAME: 'net1', CNI_PATH: '/usr/lib/cni' },
    extendEnv: false,
    input: JSON.stringify(conf),
    reject: false,
    timeout: 60000,
  });

test('an allocated device is the macvtap CNI deviceID: ADD moves it into the pod as net1, DEL removes it', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'nsenter')) return;
  if (!existsSync(CNI_MACVTAP)) return t.fail(`${CNI_MACVTAP} is missing: build packages/cni first (npx tsc -b)`);
  const { ns, kubelet, plugin } = await rig(t);
  const pod = await makeNetns(t, 'twpod');
  await until('registration', () => kubelet.latest(RESOURCE)?.lists.length !== undefined && kubelet.latest(RESOURCE)?.lists.length !== 0);

  const alloc = await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp0'] }] });
  if (E.isLeft(alloc)) return t.fail(alloc.left.details);
  const spec = alloc.right.container_responses[0].devices[0] as { host_path: string };
  t.deepEqual(plugin.states[0]?.held(), ['dpMvp0']);

  // What Multus hands over: the device ID kubelet allocated, as deviceID.
  const conf = { cniVersion: '1.0.0', name: 'dataplane', type: 'macvtap', deviceID: 'dpMvp0', mac: '02:23:45:67:89:01' };
  const started = Date.now();
  const add = await cni('ADD', ns.path, pod.path, conf);
  t.log(`CNI ADD took ${Date.now() - started} ms`);
  t.is(add.exitCode, 0, `${add.stdout}\n${add.stderr}`);
  t.like(JSON.parse(add.stdout), { interfaces: [{ name: 'net1', mac: '02:23:45:67:89:01', sandbox: pod.path }] });
  t.deepEqual(await macvtaps(ns.name), [], 'the device left the host netns');
  const net1 = (await macvtaps(pod.name)).find((l) => l.ifname === 'net1');
  t.truthy(net1, 'net1 is a macvtap in the pod');
  // The node named in the DeviceSpec is still net1's: the move kept its ifindex.
  t.is(spec.host_path, `/dev/tap${net1?.ifindex}`);
  t.true(existsSync(spec.host_path));
  // The plugin lets go of a device the CNI took: stopping leaves the pod's link alone.
  await until('plugin lets go', () => plugin.states[0]?.held().length === 0);
  await plugin.stop();
  t.truthy((await links(pod.name)).find((l) => l.ifname === 'net1'));

  const del = await cni('DEL', ns.path, pod.path, conf);
  t.is(del.exitCode, 0, `${del.stdout}\n${del.stderr}`);
  t.deepEqual(await macvtaps(pod.name), []);
});
