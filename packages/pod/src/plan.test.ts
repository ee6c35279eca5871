import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { parseNetworksAnnotation, type NetworkSelection } from './annotation.js';
import { describePodError } from './errors.js';
import type { Nad } from './nad.js';
import { pluginStdin } from './netconf.js';
import { cniArgsOf, delegatedConf, planDelegates, runtimeConfigOf, specConfigOr, type Delegate, type PodIdentity } from './plan.js';

const nad = (name: string, config: object | undefined, extra: Partial<Nad> = {}): [string, Nad] => [
  `default/${name}`,
  { namespace: 'default', name, source: `${name}.yaml, document 1`, ...(config === undefined ? {} : { config: JSON.stringify(config) }), ...extra },
];
const NADS = new Map<string, Nad>([
  nad('dataplane', { cniVersion: '0.3.1', type: 'macvtap', mtu: 1500 }, { resourceName: 'macvtap.network.kubevirt.io/dataplane' }),
  nad('br', { cniVersion: '1.0.0', name: 'br', plugins: [{ type: 'bridge', bridge: 'br0', ipam: { type: 'host-local', subnet: '10.1.0.0/24' } }, { type: 'tuning', capabilities: { mac: true } }] }),
  nad('fromfile', undefined),
]);
const confDir = specConfigOr((n) => (n.name === 'fromfile' ? E.right({ text: '{"cniVersion":"0.4.0","name":"fromfile","type":"ptp"}', source: '/conf/10-ff.conf' }) : E.left({ _tag: 'ConfFileNotFound', network: n.name, confDir: '/conf' })));
const POD: PodIdentity = { name: 'vm1', namespace: 'default', uid: 'uid-1', containerId: 'c0ffee', netns: '/var/run/netns/vm1' };

const sel = (text: string): readonly NetworkSelection[] => {
  const r = parseNetworksAnnotation(text, 'default');
  if (E.isLeft(r)) throw new Error(describePodError(r.left));
  return r.right;
};
const plan = (text: string, def?: object): readonly Delegate[] => {
  const r = planDelegates(def === undefined ? undefined : { text: JSON.stringify(def), source: 'default.conflist' }, sel(text), NADS, confDir);
  if (E.isLeft(r)) throw new Error(describePodError(r.left));
  return r.right;
};

test('default network first as eth0, then net<position> unless named; NAD name fills a nameless config', (t) => {
  const p = plan('dataplane, br@ext0, fromfile', { cniVersion: '1.0.0', name: 'cluster', plugins: [{ type: 'ptp' }] });
  t.deepEqual(
    p.map((d) => [d.network, d.ifname, d.isDefault, d.conf.name, d.source]),
    [
      ['cluster', 'eth0', true, 'cluster', 'default.conflist'],
      ['default/dataplane', 'net1', false, 'dataplane', 'dataplane.yaml, document 1 spec.config'],
      ['default/br', 'ext0', false, 'br', 'br.yaml, document 1 spec.config'],
      ['default/fromfile', 'net3', false, 'fromfile', '/conf/10-ff.conf'],
    ],
  );
  t.is(p[1]?.resourceName, 'macvtap.network.kubevirt.io/dataplane');
});

test("CNI_ARGS as Multus passes them; MAC= and IP= only when the selection asks", (t) => {
  const [plain] = plan('br');
  const [withMac] = plan('[{"name":"dataplane","mac":"02:23:45:67:89:01","ips":["10.9.0.5/24"]}]');
  t.is(cniArgsOf(POD, plain as Delegate), 'IgnoreUnknown=true;K8S_POD_NAMESPACE=default;K8S_POD_NAME=vm1;K8S_POD_INFRA_CONTAINER_ID=c0ffee;K8S_POD_UID=uid-1');
  t.is(cniArgsOf(POD, withMac as Delegate), 'IgnoreUnknown=true;K8S_POD_NAMESPACE=default;K8S_POD_NAME=vm1;K8S_POD_INFRA_CONTAINER_ID=c0ffee;K8S_POD_UID=uid-1;MAC=02:23:45:67:89:01;IP=10.9.0.5/24');
});

test('runtimeConfig reaches only plugins whose capabilities allow it; deviceID lands in every plugin', (t) => {
  const [br] = plan('[{"name":"br","mac":"02:00:00:00:00:07"}]');
  if (br === undefined) return t.fail();
  const rc = runtimeConfigOf(br, 'dpMvp0', undefined);
  const conf = delegatedConf(br, 'dpMvp0');
  const bridge = pluginStdin(conf, 0, rc, undefined);
  const tuning = pluginStdin(conf, 1, rc, { cniVersion: '1.0.0', interfaces: [] });
  t.is(bridge['runtimeConfig'], undefined, 'bridge declares no capabilities');
  t.like(bridge, { type: 'bridge', name: 'br', cniVersion: '1.0.0', deviceID: 'dpMvp0' });
  t.deepEqual(tuning['runtimeConfig'], { mac: '02:00:00:00:00:07' });
  t.like(tuning, { type: 'tuning', name: 'br', deviceID: 'dpMvp0', prevResult: { cniVersion: '1.0.0' } });
});

test('cni-args go into each plugin as args.cni', (t) => {
  const [br] = plan('[{"name":"br","cni-args":{"foo":"bar"}}]');
  t.deepEqual(br?.conf.plugins.map((p) => p['args']), [{ cni: { foo: 'bar' } }, { cni: { foo: 'bar' } }]);
});

test('a missing NAD, a bad config, a clashing or overlong interface are typed errors naming the network', (t) => {
  const err = (text: string): string => {
    const r = planDelegates({ text: '{"cniVersion":"1.0.0","name":"cluster","type":"ptp"}', source: 'd' }, sel(text), NADS, confDir);
    return E.isLeft(r) ? describePodError(r.left) : 'planned';
  };
  t.is(err('nope'), 'no NetworkAttachmentDefinition default/nope (known: default/br, default/dataplane, default/fromfile)');
  t.regex(err('br@eth0'), /network default\/br: interface "eth0" is asked for twice/);
  t.regex(err('br@averyveryverylongname'), /longer than 15 bytes/);
  const bad = planDelegates(undefined, sel('x'), new Map([nad('x', { cniVersion: '1.0.0' })]), confDir);
  t.true(E.isLeft(bad) && /network default\/x: bad CNI config in x\.yaml, document 1 spec\.config: type: expected string/.test(describePodError(bad.left)));
});
