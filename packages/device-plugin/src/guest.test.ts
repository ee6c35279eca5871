// The whole macvtap path, KubeVirt-style: kubelet (stand-in) Allocates a
// device of the plugin, the macvtap CNI takes it as deviceID into the pod
// with a static address, and `tapwire launch` boots a TCG guest on that very
// macvtap (its queue opened from the pod) that pings the lower device's peer.
// CNI and CLI run as executables by path: neither is a dependency of this package.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { until } from './testing/kubelet.js';
import { RESOURCE, rig } from './testing/rig.js';

const CNI_MACVTAP = fileURLToPath(new URL('../../cni/dist/entry/macvtap.js', import.meta.url));
const TAPWIRE = fileURLToPath(new URL('../../cli/bin/tapwire.js', import.meta.url));

test('a guest boots on the allocated macvtap and pings through the lower device', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'nsenter') || !requireCommand(t, 'qemu-system-x86_64')) return;
  for (const f of [CNI_MACVTAP, TAPWIRE]) if (!existsSync(f)) return t.fail(`${f} is missing: build the workspace first (npx tsc -b)`);
  t.timeout(400_000);
  const { ns, kubelet } = await rig(t, 2);
  // The lower device's peer answers for the network: 10.77.0.1 in the netns playing the host.
  await sh(['ip', '-n', ns.name, 'addr', 'add', '10.77.0.1/24', 'dev', 'peer']);
  const pod = await makeNetns(t, 'twpod');
  // IPv4 only: with IPv6 on net1, launch run right after net1 came up failed
  // its guest check ("route-missing: IPv6 fe80::/64") although the guest
  // pinged; 2 s later it passed. A race for launch's owners, not ours.
  await sh(['ip', 'netns', 'exec', pod.name, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
  await until('registration', () => (kubelet.latest(RESOURCE)?.lists.length ?? 0) > 0);
  const alloc = await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp0'] }] });
  if (E.isLeft(alloc)) return t.fail(alloc.left.details);

  const conf = { cniVersion: '1.0.0', name: 'dataplane', type: 'macvtap', deviceID: 'dpMvp0', mac: '02:23:45:67:89:01', ipam: { type: 'static', addresses: [{ address: '10.77.0.2/24' }] } };
  const env = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_CONTAINERID: 'guest', CNI_NETNS: pod.path, CNI_IFNAME: 'net1', CNI_PATH: '/usr/lib/cni' };
  const cni = (command: 'ADD' | 'DEL') =>
    execa('nsenter', [`--net=${ns.path}`, '--', process.execPath, CNI_MACVTAP], { env: { ...env, CNI_COMMAND: command }, extendEnv: false, input: JSON.stringify(conf), reject: false, timeout: 60_000 });
  const add = await cni('ADD');
  t.is(add.exitCode, 0, `${add.stdout}\n${add.stderr}`);
  t.teardown(async () => void (await cni('DEL')));

  const started = Date.now();
  const launch = await execa(process.execPath, [TAPWIRE, 'launch', pod.path, '--ping', '10.77.0.1', '--timeout', '300s', '--json'], { reject: false, timeout: 360_000 });
  t.log(`launch (TCG boot + ping) took ${Date.now() - started} ms`);
  t.is(launch.exitCode, 0, String(launch.stderr).slice(-2000));
  const report = JSON.parse(String(launch.stdout)) as { ok: boolean; attachments: { link: string; device: string; guestMac: string }[] };
  t.true(report.ok);
  t.like(report.attachments[0], { link: 'net1', device: 'macvtap', guestMac: '02:23:45:67:89:01' });
  t.log(String(launch.stderr).split('\n').filter((l) => /boot|ping/.test(l)).join('\n'));
});
