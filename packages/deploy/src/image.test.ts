// The image's node-agent container as the DaemonSet runs it, in thin mode
// (the bundled plugins installed on the node), as far as one machine can:
// built by Podman from a local base, run privileged in a throwaway netns
// playing the node (a veth `lowr` as the lower device) with the DaemonSet's
// own mounts and env, its host paths being temp dirs. Kubelet is the device
// plugin's stand-in, listening in the host-side plugin dir. Everything
// (containers, images, storage, netns, temp dirs) goes on teardown, also on failure.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { requireCommand, requireRoot, sh, uniqueName } from '@tapwire/testkit';
import { startKubelet, until } from '../../device-plugin/dist/testing/kubelet.js';
import { macvtaps } from '../../device-plugin/dist/testing/rig.js';
import { podmanRunArgs } from './daemonset.js';
import { baseOnly, buildImage, IMAGE_COMMANDS, makeNode } from './testing/image.js';

const PLUGINS = ['macvtap', 'tap', 'tc-redirect-tap'];
const RESOURCE = 'macvtap.network.kubevirt.io/dp';
const VERSION_STDIN = '{"cniVersion": "1.0.0"}';

const since = (start: number): number => Date.now() - start;
const gated = (t: ExecutionContext): boolean => requireRoot(t) && IMAGE_COMMANDS.every((c) => requireCommand(t, c));

test('thin: the image installs the CNI bundles into the host dir and its device plugin registers with kubelet; podman stop ends it cleanly; a bad DP_MACVTAP_CONF stops it at start', async (t) => {
  if (!gated(t)) return;
  t.timeout(600_000, 'a Podman build on 2 shared cores');
  const b = await buildImage(t);
  const { ns, hostDir } = await makeNode(t, b);
  const agent = b.agent.container('node-agent');
  const cniBin = hostDir('/opt/cni/bin');
  const pluginDir = hostDir('/var/lib/kubelet/device-plugins');
  // What a node may already hold: another plugin (left alone), an older tap
  // (replaced), a temp file of an install killed half-way (replaced).
  writeFileSync(join(cniBin, 'bridge'), 'not ours\n', { mode: 0o755 });
  writeFileSync(join(cniBin, 'tap'), '#!/bin/sh\necho old\n', { mode: 0o755 });
  writeFileSync(join(cniBin, '.macvtap.tapwire-new'), 'half', { mode: 0o600 });

  const kubelet = await startKubelet(pluginDir);
  t.teardown(() => kubelet.close());

  const conf = JSON.stringify([{ name: 'dp', lowerDevice: 'lowr', capacity: 2 }]);
  const name = uniqueName('twnode');
  const run = podmanRunArgs(agent, hostDir);
  let start = Date.now();
  await b.podman.podman([
    'run', '--detach', '--name', name, '--network', `ns:${ns.path}`, '--log-driver', 'k8s-file',
    ...run.flags, '--env', 'TAPWIRE_CNI_MODE=thin', '--env', `DP_MACVTAP_CONF=${conf}`,
    b.image, ...run.command,
  ]);
  const registeredMs = await until('the plugin in the container to register and list', () => (kubelet.latest(RESOURCE)?.lists.length ?? 0) > 0, 60_000);
  t.log(`registered ${registeredMs} ms after podman run returned (${since(start)} ms after it started)`);
  const reg = kubelet.latest(RESOURCE);
  t.is(reg?.request.version, 'v1beta1');
  t.is(reg?.request.endpoint, 'macvtap.network.kubevirt.io_dp.sock');
  t.deepEqual(reg?.lists.at(-1)?.devices, [{ ID: 'dpMvp0', health: 'Healthy' }, { ID: 'dpMvp1', health: 'Healthy' }]);

  // The host dir: ours installed (executable, the staged bytes) with their
  // tapwire-lib, the foreign one untouched, no temp file or dir left.
  t.deepEqual(readdirSync(cniBin).sort(), ['bridge', ...PLUGINS, 'tapwire-lib'].sort());
  const koffi = join('tapwire-lib', 'koffi', 'build', 'koffi', `${process.platform}_${process.arch}`, 'koffi.node');
  t.true(readFileSync(join(cniBin, koffi)).equals(readFileSync(join(b.context, 'rootfs', 'opt', 'tapwire', 'cni', koffi))), 'koffi is the staged one');
  t.is(readFileSync(join(cniBin, 'bridge'), 'utf8'), 'not ours\n');
  for (const plugin of PLUGINS) {
    const file = join(cniBin, plugin);
    t.is(statSync(file).mode & 0o777, 0o755, plugin);
    t.true(readFileSync(file).equals(readFileSync(join(b.context, 'rootfs', 'opt', 'tapwire', 'cni', plugin))), `${plugin} is the staged bundle`);
    const version = JSON.parse(await sh(['env', 'CNI_COMMAND=VERSION', file], VERSION_STDIN)) as { supportedVersions?: string[] };
    t.true(version.supportedVersions?.includes('1.0.0'), `${plugin} VERSION: ${JSON.stringify(version)}`);
  }

  // The DaemonSet's readiness probe, run where kubelet runs it: ready now.
  t.not(agent.readinessCommand.length, 0);
  await b.podman.podman(['exec', name, ...agent.readinessCommand]);

  // The plugin works in the node netns from inside the container (ip, nsenter, koffi all there).
  const alloc = await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp0'] }] });
  t.is(alloc._tag, 'Right', JSON.stringify(alloc));
  const made = await macvtaps(ns.name);
  t.deepEqual(made.map((l) => `${l.ifname}@${l.link ?? ''}`), ['dpMvp0@lowr']);
  t.like(alloc._tag === 'Right' ? alloc.right : {}, { container_responses: [{ devices: [{ host_path: `/dev/tap${made[0]?.ifindex ?? -1}`, permissions: 'rw' }] }] });

  // As kubelet/the runtime stops a pod: SIGTERM, then the grace period.
  start = Date.now();
  await b.podman.podman(['stop', '--time', '30', name]);
  t.log(`stopped ${since(start)} ms after podman stop`);
  t.is((await b.podman.podman(['inspect', '--format', '{{.State.ExitCode}}', name])).trim(), '0');
  // Both streams as the runtime logged them (podman logs would split them over its own stdout/stderr).
  const logs = readFileSync((await b.podman.podman(['inspect', '--format', '{{.HostConfig.LogConfig.Path}}', name])).trim(), 'utf8');
  t.regex(logs, /installed \/host\/opt\/cni\/bin\/tc-redirect-tap \(thin\)/);
  t.regex(logs, /offering macvtap\.network\.kubevirt\.io\/dp \(2 on lowr, bridge\)/);
  t.deepEqual(await macvtaps(ns.name), [], 'the plugin deleted the macvtap it made');
  t.false(readdirSync(pluginDir).includes('macvtap.network.kubevirt.io_dp.sock'), 'and its socket');

  // A bad ConfigMap value stops the container at start, the problem named in its log.
  const bad = uniqueName('twbad');
  await b.podman.podman(['run', '--name', bad, '--network', `ns:${ns.path}`, '--log-driver', 'k8s-file', ...run.flags, '--env', 'DP_MACVTAP_CONF=[{"name": "dp"}]', b.image]).catch(() => undefined);
  t.is((await b.podman.podman(['inspect', '--format', '{{.State.ExitCode}}', bad])).trim(), '1');
  t.regex(readFileSync((await b.podman.podman(['inspect', '--format', '{{.HostConfig.LogConfig.Path}}', bad])).trim(), 'utf8'), /bad DP_MACVTAP_CONF: DP_MACVTAP_CONF\[0\]\.lowerDevice: expected a link name/);
});

// A node with node but without this checkout (the base image is such a node):
// the installed dir alone (bundles + tapwire-lib) answers VERSION, and in a
// privileged container (its own netns) ADD then CHECK of a tap with an owner:
// CHECK reads the owner through the FFI, so koffi is loaded from tapwire-lib.
const ADD_THEN_CHECK = 'printf %s "$1" | CNI_COMMAND=ADD "$0" >/dev/null && printf %s "$2" | CNI_COMMAND=CHECK "$0"';

test('thin: the installed bundles answer VERSION, and ADD and CHECK a tap with koffi from beside them, on a node that has node but not this checkout', async (t) => {
  if (!gated(t)) return;
  t.timeout(600_000, 'a Podman import on 2 shared cores');
  const b = await baseOnly(t);
  const cni = join(b.context, 'rootfs', 'opt', 'tapwire', 'cni');
  const run = (env: readonly string[], argv: readonly string[], stdin = ''): Promise<string> =>
    b.podman.podman(['run', '--rm', '--interactive', '--network', 'none', '--volume', `${cni}:/opt/cni/bin:ro`, ...env.flatMap((e) => ['--env', e]), ...argv], stdin).catch((e: unknown) => (e as Error).message);
  for (const plugin of PLUGINS) t.regex(await run(['CNI_COMMAND=VERSION'], [b.base, `/opt/cni/bin/${plugin}`], VERSION_STDIN), /"supportedVersions"/, plugin);
  const conf = { cniVersion: '1.0.0', name: 'n', type: 'tap', owner: 0 };
  const check = { ...conf, prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'net1', sandbox: '/proc/self/ns/net' }] } };
  const env = ['CNI_CONTAINERID=c', 'CNI_NETNS=/proc/self/ns/net', 'CNI_IFNAME=net1', 'CNI_PATH=/opt/cni/bin'];
  const out = await run(env, ['--privileged', b.base, 'sh', '-c', ADD_THEN_CHECK, '/opt/cni/bin/tap', JSON.stringify(conf), JSON.stringify(check)]);
  t.is(out, '', 'CHECK passed (the tap is owned by 0, read through koffi)');
});
