// The DaemonSet's pod as it runs on a node, thick mode (the default): the
// node-agent container installs the C forwarders into the host's CNI bin dir
// and serves the device plugin; the cni-daemon container serves the calls the
// forwarders hand it. Both run from the image built by Podman from a local
// base, with the DaemonSet's own mounts, commands and env, host paths being
// temp dirs (the netns dir is the real one). Then a runtime's CNI calls, made
// from the host through the installed forwarders, create and delete a tap
// with a host-local lease in a pod netns, and move the macvtap the device
// plugin allocated into it. Everything goes on teardown.
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { makeNetns, requireCommand, requireRoot, sh, uniqueName } from '@tapwire/testkit';
import { startKubelet, until } from '../../device-plugin/dist/testing/kubelet.js';
import { macvtaps } from '../../device-plugin/dist/testing/rig.js';
import { podmanRunArgs } from './daemonset.js';
import { REPO } from './paths.js';
import { buildImage, IMAGE_COMMANDS, makeNode } from './testing/image.js';

const PLUGINS = ['macvtap', 'tap', 'tc-redirect-tap'];
const RESOURCE = 'macvtap.network.kubevirt.io/dp';
const HOST_LOCAL = '/usr/lib/cni/host-local';

test('thick: forwarders installed on the node need nothing but libc; CNI ADD/DEL through them run in the cni-daemon container (tap + host-local lease; the macvtap the device plugin allocated, as deviceID); both containers stop cleanly', async (t) => {
  if (!requireRoot(t) || !IMAGE_COMMANDS.every((c) => requireCommand(t, c)) || !requireCommand(t, HOST_LOCAL)) return;
  t.timeout(600_000, 'a Podman build on 2 shared cores');
  const b = await buildImage(t);
  const { ns, hostDir } = await makeNode(t, b);
  const cniBin = hostDir('/opt/cni/bin');
  // The node's reference IPAM plugin, which the daemon runs from its CNI_PATH.
  copyFileSync(HOST_LOCAL, join(cniBin, 'host-local'));
  const kubelet = await startKubelet(hostDir('/var/lib/kubelet/device-plugins'));
  t.teardown(() => kubelet.close());

  const names = { agent: uniqueName('twnode'), daemon: uniqueName('twcnid') };
  const conf = JSON.stringify([{ name: 'dp', lowerDevice: 'lowr', capacity: 2 }]);
  const agentRun = podmanRunArgs(b.agent.container('node-agent'), hostDir);
  const daemonRun = podmanRunArgs(b.agent.container('cni-daemon'), hostDir);
  const pidHost = b.agent.hostPID ? ['--pid', 'host'] : [];
  for (const [name, run, extra] of [[names.agent, agentRun, ['--env', `DP_MACVTAP_CONF=${conf}`]], [names.daemon, daemonRun, []]] as const) {
    await b.podman.podman(['run', '--detach', '--name', name, '--network', `ns:${ns.path}`, ...pidHost, '--log-driver', 'k8s-file', ...run.flags, ...extra, b.image, ...run.command]);
  }
  const socket = join(hostDir('/run/tapwire'), 'cni.sock');
  await until('the daemon socket', () => existsSync(socket), 60_000);
  await until('the device plugin registration', () => (kubelet.latest(RESOURCE)?.lists.length ?? 0) > 0, 60_000);

  // Installed: the staged forwarders, linked to libc alone, naming no file of this checkout.
  t.deepEqual(readdirSync(cniBin).sort(), ['host-local', ...PLUGINS]);
  for (const plugin of PLUGINS) {
    const file = join(cniBin, plugin);
    t.is(statSync(file).mode & 0o777, 0o755, plugin);
    const bytes = readFileSync(file);
    t.true(bytes.equals(readFileSync(join(b.context, 'rootfs', 'opt', 'tapwire', 'thick', plugin))), `${plugin} is the staged forwarder`);
    t.false(bytes.includes(REPO), `${plugin} names no checkout path`);
    const libs = (await sh(['ldd', file])).split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((l) => l !== '');
    t.deepEqual(libs.filter((l) => !/^(linux-vdso\.so\.1|libc\.so\.6|\/lib64\/ld-linux-x86-64\.so\.2)$/.test(l)), [], `${plugin} links libc only`);
  }
  // Each DaemonSet readiness probe passes in its container.
  for (const [name, c] of [[names.agent, 'node-agent'], [names.daemon, 'cni-daemon']] as const) await b.podman.podman(['exec', name, ...b.agent.container(c).readinessCommand]);

  // A runtime's calls. The socket compiled into the forwarders is the node's
  // /run/tapwire/cni.sock; here the node's /run/tapwire is a temp dir, which
  // TAPWIRE_CNI_SOCKET names. CNI_PATH is the node's path, as kubelet passes it.
  const pod = await makeNetns(t, 'twpod');
  const network = uniqueName('twnet');
  const stdin = JSON.stringify({ cniVersion: '1.0.0', name: network, type: 'tap', ipam: { type: 'host-local', ranges: [[{ subnet: '10.251.0.0/24' }]] } });
  const call = (command: string, plugin = 'tap', conf = stdin, ifname = 'net1'): Promise<string> =>
    sh(['env', `TAPWIRE_CNI_SOCKET=${socket}`, `CNI_COMMAND=${command}`, 'CNI_CONTAINERID=c1', `CNI_NETNS=${pod.path}`, `CNI_IFNAME=${ifname}`, 'CNI_PATH=/opt/cni/bin', join(cniBin, plugin)], command === 'VERSION' ? '{"cniVersion": "1.0.0"}' : conf);
  const podLink = async (ifname: string): Promise<string | undefined> =>
    (JSON.parse(await sh(['ip', '-n', pod.name, '-j', '-d', 'link', 'show'])) as { ifname: string; linkinfo?: { info_kind?: string } }[]).find((l) => l.ifname === ifname)?.linkinfo?.info_kind;
  for (const plugin of PLUGINS) t.regex(await call('VERSION', plugin), /"supportedVersions":\[[^\]]*"1\.0\.0"/, plugin);
  let start = Date.now();
  const added = JSON.parse(await call('ADD')) as { interfaces?: { name: string; sandbox?: string }[]; ips?: { address: string }[] };
  t.log(`ADD through the forwarder took ${Date.now() - start} ms`);
  t.like(added, { interfaces: [{ name: 'net1', sandbox: pod.path }] });
  t.regex(added.ips?.[0]?.address ?? '', /^10\.251\.0\.\d+\/24$/);
  t.is(await podLink('net1'), 'tun');
  const leases = join(hostDir('/var/lib/cni'), 'networks', network);
  t.true(readdirSync(leases).some((f) => f.startsWith('10.251.0.')), 'host-local leased in the node state dir');
  start = Date.now();
  await call('DEL');
  t.log(`DEL through the forwarder took ${Date.now() - start} ms`);
  t.is(await podLink('net1'), undefined);
  t.false(readdirSync(leases).some((f) => f.startsWith('10.251.0.')), 'and released the lease');

  // The KubeVirt flow: kubelet allocates a device of the resource (node-agent's
  // device plugin makes the macvtap dpMvp0 on lowr in the node netns), Multus
  // hands it on as deviceID, and the macvtap plugin, run by cni-daemon, moves it into the pod.
  const alloc = await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp0'] }] });
  t.is(alloc._tag, 'Right', JSON.stringify(alloc));
  const macvtapConf = JSON.stringify({ cniVersion: '1.0.0', name: uniqueName('twmv'), type: 'macvtap', deviceID: 'dpMvp0' });
  t.like(JSON.parse(await call('ADD', 'macvtap', macvtapConf, 'net2')), { interfaces: [{ name: 'net2', sandbox: pod.path }] });
  t.is(await podLink('net2'), 'macvtap');
  t.deepEqual((await macvtaps(ns.name)).map((l) => l.ifname), [], 'the device left the node netns for the pod');
  await call('DEL', 'macvtap', macvtapConf, 'net2');
  t.is(await podLink('net2'), undefined);

  // SIGTERM to both, as kubelet stops the pod.
  for (const name of [names.agent, names.daemon]) {
    start = Date.now();
    await b.podman.podman(['stop', '--time', '30', name]);
    t.log(`${name} stopped ${Date.now() - start} ms after podman stop`);
    t.is((await b.podman.podman(['inspect', '--format', '{{.State.ExitCode}}', name])).trim(), '0', name);
  }
  t.false(existsSync(socket), 'the daemon removed its socket');
  t.deepEqual(await macvtaps(ns.name), [], 'nothing of the device plugin left in the node netns');
  const log = readFileSync((await b.podman.podman(['inspect', '--format', '{{.HostConfig.LogConfig.Path}}', names.agent])).trim(), 'utf8');
  t.regex(log, /installed \/host\/opt\/cni\/bin\/tap \(thick\)/);
});
