// pod up / down against real reference plugins (bridge, ptp, macvlan,
// host-local from /usr/lib/cni), all run inside a throwaway node netns.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireCommand, requireRoot, sh, uniqueName } from '@tapwire/testkit';
import { podDown } from './down.js';
import { describePodError } from './errors.js';
import { readState, readStatus } from './state.js';
import { linksIn, netnsExists, podRig, rigUpOptions, type PodRig } from './testing/rig.js';
import { podUp, type UpOptions } from './up.js';

const gate = (t: Parameters<typeof requireRoot>[0]): boolean => requireRoot(t) && requireCommand(t, '/usr/lib/cni/bridge') && requireCommand(t, 'nsenter');

const nadYaml = (name: string, config: object, namespace?: string): string =>
  `apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: ${name}\n${namespace === undefined ? '' : `  namespace: ${namespace}\n`}spec:\n  config: '${JSON.stringify(config)}'\n`;

/** A default network (bridge + host-local, gateway on the bridge) and two secondaries: br-a (spec.config) and ptp-b (the conf-dir convention). */
const threeNetworks = (rig: PodRig, third: number) => {
  const defaultConf = rig.writeConf('default.conflist', {
    cniVersion: '1.0.0',
    name: 'cluster',
    plugins: [{ type: 'bridge', bridge: uniqueName('twbr'), isGateway: true, ipam: rig.hostLocal(`10.${third}.0.0/24`) }],
  });
  rig.writeNads(
    'nads.yaml',
    [
      nadYaml('br-a', { cniVersion: '0.4.0', type: 'bridge', bridge: uniqueName('twbr'), isGateway: true, ipam: rig.hostLocal(`10.${third}.1.0/24`) }),
      'apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: ptp-b\n',
      nadYaml('broken', { cniVersion: '1.0.0', type: 'macvlan', master: 'nosuchlink', ipam: rig.hostLocal(`10.${third}.3.0/24`) }),
    ].join('---\n'),
  );
  rig.writeConf('20-ptp-b.conf', { cniVersion: '1.0.0', name: 'ptp-b', type: 'ptp', ipam: rig.hostLocal(`10.${third}.2.0/24`) });
  return defaultConf;
};

const options = (rig: PodRig, name: string, networks: string, defaultConf?: string): UpOptions =>
  rigUpOptions(rig, name, networks, defaultConf === undefined ? {} : { defaultConf });

const veths = async (ns: string): Promise<string[]> => (await linksIn(ns)).filter((l) => l.linkinfo?.info_kind === 'veth').map((l) => l.ifname);

test('bridge + host-local default, two secondary networks (spec.config and the conf-file convention): up, status, down leaves nothing', async (t) => {
  if (!gate(t)) return;
  const rig = await podRig(t);
  const defaultConf = threeNetworks(rig, 231);
  const name = rig.podName();
  const started = Date.now();
  const up = await podUp(options(rig, name, 'br-a, ptp-b@ext2', defaultConf))();
  t.log(`pod up (3 networks) took ${Date.now() - started} ms`);
  if (E.isLeft(up)) return t.fail(describePodError(up.left));

  const links = await linksIn(name);
  const addr = (ifname: string) => links.find((l) => l.ifname === ifname)?.addr_info?.find((a) => a.family === 'inet')?.local;
  t.deepEqual(links.map((l) => l.ifname).sort(), ['eth0', 'ext2', 'lo', 'net1']);
  const status = await readStatus(rig.stateRoot, name);
  if (E.isLeft(status)) return t.fail(describePodError(status.left));
  t.deepEqual(status.right, [
    { name: 'cluster', interface: 'eth0', ips: [addr('eth0')], mac: links.find((l) => l.ifname === 'eth0')?.address, default: true, dns: {} },
    { name: 'default/br-a', interface: 'net1', ips: [addr('net1')], mac: links.find((l) => l.ifname === 'net1')?.address, dns: {} },
    { name: 'default/ptp-b', interface: 'ext2', ips: [addr('ext2')], mac: links.find((l) => l.ifname === 'ext2')?.address, dns: {} },
  ]);
  t.regex(addr('eth0') ?? '', /^10\.231\.0\./);
  t.regex(addr('ext2') ?? '', /^10\.231\.2\./);
  t.is(rig.leases().length, 3);
  t.is((await veths(rig.node.name)).length, 3, 'three host ends in the node netns');
  // What DEL will be given: the exact config, CNI_ARGS and each result.
  const state = readState(rig.stateRoot, name);
  if (E.isLeft(state)) return t.fail(describePodError(state.left));
  t.regex(state.right.networks[1]?.cniArgs ?? '', new RegExp(`^IgnoreUnknown=true;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=[0-9a-f]{64};K8S_POD_UID=`));
  t.true(state.right.networks.every((n) => n.result !== undefined));

  const down = await podDown(rig.stateRoot, name)();
  if (E.isLeft(down)) return t.fail(describePodError(down.left));
  t.false(await netnsExists(name));
  t.false(existsSync(join(rig.stateRoot, name)));
  t.deepEqual(rig.leases(), []);
  t.deepEqual(await veths(rig.node.name), [], 'no host end left (the bridges stay, as the bridge plugin leaves them)');
});

test('a failure in network k undoes networks k-1..1 and the default: no netns, state, lease or veth left', async (t) => {
  if (!gate(t)) return;
  const rig = await podRig(t);
  const defaultConf = threeNetworks(rig, 232);
  const name = rig.podName();
  const up = await podUp(options(rig, name, 'br-a, ptp-b, broken', defaultConf))();
  if (E.isRight(up)) return t.fail('up should have failed');
  t.is(up.left._tag, 'UpFailed');
  t.regex(describePodError(up.left), /network default\/broken: macvlan ADD failed .*Link not found; the networks made before were removed$/);
  t.false(await netnsExists(name));
  t.false(existsSync(join(rig.stateRoot, name)));
  t.deepEqual(rig.leases(), []);
  t.deepEqual(await veths(rig.node.name), []);
});

test('bad input changes nothing: a missing NAD, a bad annotation, a bad manifest', async (t) => {
  if (!gate(t)) return;
  const rig = await podRig(t);
  threeNetworks(rig, 233);
  const name = rig.podName();
  const err = async (networks: string): Promise<string> => {
    const r = await podUp(options(rig, name, networks))();
    return E.isLeft(r) ? describePodError(r.left) : 'up';
  };
  t.is(await err('nope'), 'no NetworkAttachmentDefinition default/nope (known: default/br-a, default/broken, default/ptp-b)');
  t.regex(await err('[{"name":"br-a","mac":"zz"}]'), /bad k8s\.v1\.cni\.cncf\.io\/networks annotation .*mac "zz" is not a unicast MAC/);
  rig.writeNads('zz-bad.yaml', 'apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: x\nspec:\n  config: 5\n');
  t.regex(await err('br-a'), /zz-bad\.yaml, document 1: spec\.config: expected string, found 5/);
  t.false(await netnsExists(name));
  t.false(existsSync(join(rig.stateRoot, name)));
});

test('default-route moves the pod\'s default route to the selected network (Multus SetDefaultGW)', async (t) => {
  if (!gate(t)) return;
  const rig = await podRig(t);
  const defaultConf = threeNetworks(rig, 234);
  const name = rig.podName();
  const up = await podUp(options(rig, name, '[{"name":"br-a","default-route":["10.234.1.1"]}]', defaultConf))();
  if (E.isLeft(up)) return t.fail(describePodError(up.left));
  const routes = JSON.parse(await sh(['ip', '-n', name, '-j', 'route', 'show', 'default'])) as { gateway?: string; dev: string }[];
  t.deepEqual(routes.map((r) => [r.gateway, r.dev]), [['10.234.1.1', 'net1']]);
  t.like(up.right.status, [{ name: 'cluster', default: true }, { name: 'default/br-a', interface: 'net1' }]);
  const down = await podDown(rig.stateRoot, name)();
  if (E.isLeft(down)) return t.fail(describePodError(down.left));
  t.deepEqual(rig.leases(), []);
});

test('an abort between two ADDs undoes the networks made so far: UpFailed caused by Aborted, nothing left', async (t) => {
  if (!gate(t)) return;
  const rig = await podRig(t);
  const defaultConf = threeNetworks(rig, 235);
  const name = rig.podName();
  const stop = new AbortController();
  // The first ADD runs; the signal fires as it starts, so the second never does.
  const up = await podUp({ ...options(rig, name, 'br-a, ptp-b', defaultConf), signal: stop.signal, log: (line) => line.startsWith('ADD') && stop.abort('test over') })();
  if (E.isRight(up)) return t.fail('up should have been aborted');
  if (up.left._tag !== 'UpFailed') return t.fail(describePodError(up.left));
  t.is(up.left.cause._tag, 'Aborted');
  t.regex(describePodError(up.left), /was aborted: test over/);
  t.false(await netnsExists(name));
  t.false(existsSync(join(rig.stateRoot, name)));
  t.deepEqual(rig.leases(), []);
  t.deepEqual(await veths(rig.node.name), []);
});
