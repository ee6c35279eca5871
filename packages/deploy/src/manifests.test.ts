// deploy/manifests against the Kubernetes API schema (kubernetes-models), and
// what the schema cannot see: the DaemonSet's host mounts, privileges and
// ConfigMap are the ones the image and the device plugin expect.
import { dirname } from 'node:path';
import test from 'ava';
import { DEFAULT_SOCKET } from '../../cni/dist/index.js';
import { CONFIG_ENV, parseConfig } from '../../device-plugin/dist/index.js';
import { configMapData, nodeAgent } from './daemonset.js';
import { readManifests, schemaProblems, type Manifest } from './manifests.js';
import { MANIFEST_DIR } from './paths.js';

const manifests = readManifests(MANIFEST_DIR);

test('every object in deploy/manifests is valid by the Kubernetes API schema', (t) => {
  t.deepEqual(manifests.map((m) => `${String(m.object['apiVersion'])} ${String(m.object['kind'])}`).sort(), ['apps/v1 DaemonSet', 'v1 ConfigMap']);
  t.deepEqual(manifests.flatMap(schemaProblems), []);
});

test('the schema check is not vacuous: a broken DaemonSet and an unknown kind are reported by field', (t) => {
  const ds = manifests.find((m) => m.object['kind'] === 'DaemonSet');
  if (ds === undefined) return t.fail('no DaemonSet');
  const broken = structuredClone(ds.object) as { spec: { selector?: unknown; template: { spec: { hostNetwork: unknown; containers: { securityContext: { privileged: unknown } }[] } } } };
  delete broken.spec.selector;
  broken.spec.template.spec.hostNetwork = 'yes';
  const first = broken.spec.template.spec.containers[0];
  if (first !== undefined) first.securityContext.privileged = 1;
  const problems = schemaProblems({ source: 'broken', object: broken as unknown as Manifest['object'] });
  t.true(problems.some((p) => p.includes('/spec must have required property selector')), problems.join('\n'));
  t.true(problems.some((p) => p.includes('/spec/template/spec/hostNetwork must be boolean')), problems.join('\n'));
  t.true(problems.some((p) => p.includes('/spec/template/spec/containers/0/securityContext/privileged must be boolean')), problems.join('\n'));
  t.deepEqual(schemaProblems({ source: 'x', object: { apiVersion: 'apps/v1', kind: 'Deploymnt' } }), [
    'x: no schema here for apps/v1 Deploymnt (known: apps/v1 DaemonSet, v1 ConfigMap, v1 Namespace, v1 ServiceAccount)',
  ]);
});

test('the DaemonSet: host network and PIDs; node-agent mounts the host CNI bin dir and kubelet plugin dir where the image looks', (t) => {
  const agent = nodeAgent(manifests);
  t.true(agent.hostNetwork, 'the device plugin makes macvtaps on the host links; the daemon runs plugins in the host netns');
  t.true(agent.hostPID, 'a runtime may pass CNI_NETNS=/proc/PID/ns/net to the daemon');
  t.true(agent.selectorMatchesTemplate, 'the API server refuses a selector that does not match the template');
  t.deepEqual(agent.containers.map((c) => c.name), ['node-agent', 'cni-daemon']);
  t.deepEqual(new Set(agent.containers.map((c) => c.image)).size, 1, 'one image');
  t.true(agent.containers.every((c) => c.privileged));
  const na = agent.container('node-agent');
  t.deepEqual(na.command, [], 'the image entrypoint');
  const mountOf = (hostPath: string): string | undefined => na.mounts.find((m) => m.hostPath === hostPath)?.mountPath;
  t.is(mountOf('/opt/cni/bin'), na.env['TAPWIRE_CNI_BIN_DIR']);
  t.is(mountOf('/var/lib/kubelet/device-plugins'), na.env['TAPWIRE_DEVICE_PLUGIN_DIR']);
  t.is(na.env['TAPWIRE_CNI_MODE'], 'thick');
  t.is(na.mounts.length, 2, 'nothing else of the host is mounted');
});

test('the DaemonSet: cni-daemon serves the socket the forwarders call, sees pod netns and runs the node IPAM plugins at their node paths', (t) => {
  const d = nodeAgent(manifests).container('cni-daemon');
  t.deepEqual(d.command, ['node', '/opt/tapwire/bin/tapwire-cni-daemon', '--socket', DEFAULT_SOCKET]);
  const byHost = Object.fromEntries(d.mounts.map((m) => [m.hostPath, m]));
  t.like(byHost[dirname(DEFAULT_SOCKET)], { mountPath: dirname(DEFAULT_SOCKET), readOnly: false });
  t.like(byHost['/run/netns'], { mountPath: '/run/netns', propagation: 'HostToContainer' });
  t.like(byHost['/opt/cni/bin'], { mountPath: '/opt/cni/bin', readOnly: true });
  t.like(byHost['/var/lib/cni'], { mountPath: '/var/lib/cni', readOnly: false });
  t.is(d.mounts.length, 4);
});

test("the DaemonSet's ConfigMap exists beside it and its DP_MACVTAP_CONF is one the device plugin accepts", (t) => {
  const agent = nodeAgent(manifests);
  t.deepEqual(agent.container('node-agent').envFromConfigMaps, ['tapwire-device-plugin-config']);
  const data = configMapData(manifests, agent.namespace, 'tapwire-device-plugin-config');
  const conf = data?.[CONFIG_ENV];
  if (conf === undefined) return t.fail(`no ${CONFIG_ENV} in the ConfigMap`);
  t.deepEqual(parseConfig(conf), { _tag: 'Right', right: [] });
  // The explicit example in the ConfigMap's comment parses too.
  t.like(parseConfig('[{"name": "dataplane", "lowerDevice": "eth1", "mode": "bridge", "capacity": 50}]'), { right: [{ resourceName: 'macvtap.network.kubevirt.io/dataplane', capacity: 50 }] });
});
