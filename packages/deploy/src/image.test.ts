// The image as a DaemonSet runs it, as far as one machine can: the context
// staged by deploy/build.mjs, built by Podman from a local base (no registry),
// run privileged in a throwaway netns playing the node (a veth `lowr` as the
// lower device) with the DaemonSet's own mounts and env, its host paths being
// temp dirs. Kubelet is the device plugin's stand-in, listening in the
// host-side plugin dir. Everything (containers, images, storage, netns, temp
// dirs) goes on teardown, also on failure.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { makeNetns, requireCommand, requireRoot, sh, uniqueName } from '@tapwire/testkit';
import { startKubelet, until } from '../../device-plugin/dist/testing/kubelet.js';
import { addVeth, macvtaps } from '../../device-plugin/dist/testing/rig.js';
import { nodeAgent } from './daemonset.js';
import { readManifests } from './manifests.js';
import { DEPLOY_DIR, MANIFEST_DIR } from './paths.js';
import { BUSYBOX, filesEndingWith, importBase, privatePodman } from './testing/podman.js';

const PLUGINS = ['macvtap', 'tap', 'tc-redirect-tap'];
const RESOURCE = 'macvtap.network.kubevirt.io/dp';

const since = (start: number): number => Date.now() - start;

test('the image installs the CNI executables into the host dir and its device plugin registers with kubelet; podman stop ends it cleanly; a bad DP_MACVTAP_CONF stops it at start', async (t) => {
  if (!requireRoot(t)) return;
  for (const cmd of ['podman', 'runc', 'ldd', 'tar', 'nsenter', 'ip', BUSYBOX]) if (!requireCommand(t, cmd)) return;
  t.timeout(600_000, 'a Podman build on 2 shared cores');
  const agent = nodeAgent(readManifests(MANIFEST_DIR));
  const tmp = mkdtempSync(join(tmpdir(), 'tapwire-deploy-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

  // The build context, as README.md says to make it.
  let start = Date.now();
  const context = join(tmp, 'context');
  await sh([process.execPath, join(DEPLOY_DIR, 'build.mjs'), context]);
  t.log(`staged the context in ${since(start)} ms`);

  const p = privatePodman(t, join(tmp, 'podman'));
  const base = `localhost/tapwire-deploy-base:${uniqueName('t')}`;
  const image = `localhost/tapwire-node:${uniqueName('t')}`;
  start = Date.now();
  await importBase(p, base, ['/usr/bin/node', '/usr/bin/ip', '/usr/bin/nsenter'], filesEndingWith(join(context, 'rootfs'), '.node'));
  t.log(`imported the base in ${since(start)} ms`);
  start = Date.now();
  await p.podman(['build', '--pull=never', '--network', 'none', '--build-arg', `BASE=${base}`, '--tag', image, context]);
  t.log(`built the image in ${since(start)} ms`);

  // The node: a netns with the lower device, and the DaemonSet's hostPaths as temp dirs.
  const ns = await makeNetns(t, 'twdep');
  await addVeth(ns.name);
  const host = join(tmp, 'host');
  const hostDir = (hostPath: string): string => join(host, hostPath);
  for (const m of agent.mounts) mkdirSync(hostDir(m.hostPath), { recursive: true });
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
  start = Date.now();
  await p.podman([
    'run', '--detach', '--name', name,
    ...(agent.privileged ? ['--privileged'] : []),
    '--network', `ns:${ns.path}`,
    ...agent.mounts.flatMap((m) => ['--volume', `${hostDir(m.hostPath)}:${m.mountPath}`]),
    ...Object.entries(agent.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    '--env', `DP_MACVTAP_CONF=${conf}`,
    '--log-driver', 'k8s-file',
    image,
  ]);
  const registeredMs = await until('the plugin in the container to register and list', () => (kubelet.latest(RESOURCE)?.lists.length ?? 0) > 0, 60_000);
  t.log(`registered ${registeredMs} ms after podman run returned (${since(start)} ms after it started)`);
  const reg = kubelet.latest(RESOURCE);
  t.is(reg?.request.version, 'v1beta1');
  t.is(reg?.request.endpoint, 'macvtap.network.kubevirt.io_dp.sock');
  t.deepEqual(reg?.lists.at(-1)?.devices, [{ ID: 'dpMvp0', health: 'Healthy' }, { ID: 'dpMvp1', health: 'Healthy' }]);

  // The host dir: ours installed (executable, the staged bytes), the foreign one untouched, no temp file left.
  t.deepEqual(readdirSync(cniBin).sort(), ['bridge', ...PLUGINS]);
  t.is(readFileSync(join(cniBin, 'bridge'), 'utf8'), 'not ours\n');
  for (const plugin of PLUGINS) {
    const file = join(cniBin, plugin);
    t.is(statSync(file).mode & 0o777, 0o755, plugin);
    t.true(readFileSync(file).equals(readFileSync(join(context, 'rootfs', 'opt', 'tapwire', 'cni', plugin))), `${plugin} is the staged bundle`);
    const version = JSON.parse(await sh(['env', 'CNI_COMMAND=VERSION', file], '{"cniVersion": "1.0.0"}')) as { supportedVersions?: string[] };
    t.true(version.supportedVersions?.includes('1.0.0'), `${plugin} VERSION: ${JSON.stringify(version)}`);
  }

  // The DaemonSet's readiness probe, run where kubelet runs it: ready now.
  t.not(agent.readinessCommand.length, 0);
  await p.podman(['exec', name, ...agent.readinessCommand]);

  // The plugin works in the node netns from inside the container (ip, nsenter, koffi all there).
  const alloc = await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp0'] }] });
  t.is(alloc._tag, 'Right', JSON.stringify(alloc));
  const made = await macvtaps(ns.name);
  t.deepEqual(made.map((l) => `${l.ifname}@${l.link ?? ''}`), ['dpMvp0@lowr']);
  t.like(alloc._tag === 'Right' ? alloc.right : {}, { container_responses: [{ devices: [{ host_path: `/dev/tap${made[0]?.ifindex ?? -1}`, permissions: 'rw' }] }] });

  // As kubelet/the runtime stops a pod: SIGTERM, then the grace period.
  start = Date.now();
  await p.podman(['stop', '--time', '30', name]);
  t.log(`stopped ${since(start)} ms after podman stop`);
  t.is((await p.podman(['inspect', '--format', '{{.State.ExitCode}}', name])).trim(), '0');
  // Both streams as the runtime logged them (podman logs would split them over its own stdout/stderr).
  const logs = readFileSync((await p.podman(['inspect', '--format', '{{.HostConfig.LogConfig.Path}}', name])).trim(), 'utf8');
  t.regex(logs, /installed \/host\/opt\/cni\/bin\/tc-redirect-tap/);
  t.regex(logs, /offering macvtap\.network\.kubevirt\.io\/dp \(2 on lowr, bridge\)/);
  t.deepEqual(await macvtaps(ns.name), [], 'the plugin deleted the macvtap it made');
  t.false(readdirSync(pluginDir).includes('macvtap.network.kubevirt.io_dp.sock'), 'and its socket');

  // A bad ConfigMap value stops the container at start, the problem named in its log.
  const bad = uniqueName('twbad');
  await p.podman([
    'run', '--name', bad, '--privileged', '--network', `ns:${ns.path}`, '--log-driver', 'k8s-file',
    ...agent.mounts.flatMap((m) => ['--volume', `${hostDir(m.hostPath)}:${m.mountPath}`]),
    '--env', 'DP_MACVTAP_CONF=[{"name": "dp"}]', image,
  ]).catch(() => undefined);
  t.is((await p.podman(['inspect', '--format', '{{.State.ExitCode}}', bad])).trim(), '1');
  t.regex(readFileSync((await p.podman(['inspect', '--format', '{{.HostConfig.LogConfig.Path}}', bad])).trim(), 'utf8'), /bad DP_MACVTAP_CONF: DP_MACVTAP_CONF\[0\]\.lowerDevice: expected a link name/);
});
