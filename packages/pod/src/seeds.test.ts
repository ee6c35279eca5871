// The seeds' own examples through pod up/down: kubevirt/macvtap-cni's
// `dataplane` NAD with its resourceName, satisfied by the device plugin
// (DP_MACVTAP_CONF on a lower device in the node netns) and a pod asking for
// "mac": "02:23:45:67:89:01"; OpenShift's `tap` NAD (multiQueue, owner,
// group, selinuxcontext) with the pod annotation naming namespace, interface
// and mac, whose tap an unprivileged user then attaches.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { podDown } from './down.js';
import { describePodError } from './errors.js';
import { readState, readStatus } from './state.js';
import { DATAPLANE_NAD, linksIn, netnsExists, podRig, rigUpOptions } from './testing/rig.js';
import { podUp } from './up.js';



const macvtapsIn = async (ns: string): Promise<string[]> => (await linksIn(ns)).filter((l) => l.linkinfo?.info_kind === 'macvtap').map((l) => l.ifname);

test('macvtap-cni dataplane NAD: resourceName through the device plugin as deviceID, the pod\'s mac, capacity kept across pods started at once, down leaves no macvtap', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'nsenter')) return;
  const rig = await podRig(t);
  await sh(['ip', '-n', rig.node.name, 'link', 'add', 'lowr', 'type', 'veth', 'peer', 'name', 'peer']);
  await sh(['ip', '-n', rig.node.name, 'link', 'set', 'lowr', 'up']);
  await sh(['ip', '-n', rig.node.name, 'link', 'set', 'peer', 'up']);
  rig.writeNads('dataplane.yaml', DATAPLANE_NAD);
  const dp = { devicePluginConfig: '[{"name":"dataplane","lowerDevice":"lowr","mode":"bridge","capacity":2}]', log: (l: string) => t.log(l) };
  const [a, b, c] = [rig.podName(), rig.podName(), rig.podName()];

  const started = Date.now();
  const upA = await podUp(rigUpOptions(rig, a, '[{"name":"dataplane","mac":"02:23:45:67:89:01"}]', dp))();
  t.log(`pod up with a device plugin allocation took ${Date.now() - started} ms`);
  if (E.isLeft(upA)) return t.fail(describePodError(upA.left));
  const net1 = (await linksIn(a)).find((l) => l.ifname === 'net1');
  t.like(net1, { address: '02:23:45:67:89:01', linkinfo: { info_kind: 'macvtap' } });
  const stateA = readState(rig.stateRoot, a);
  if (E.isLeft(stateA)) return t.fail(describePodError(stateA.left));
  t.like(stateA.right.networks[0], { deviceId: 'dataplaneMvp0', resourceName: 'macvtap.network.kubevirt.io/dataplane', conf: { plugins: [{ type: 'macvtap', deviceID: 'dataplaneMvp0' }] } });
  t.regex(stateA.right.networks[0]?.cniArgs ?? '', /;MAC=02:23:45:67:89:01$/);
  t.deepEqual(await readStatus(rig.stateRoot, a), E.right([{ name: 'default/dataplane', interface: 'net1', mac: '02:23:45:67:89:01', dns: {} }]));

  // kubelet's accounting, under the node's lock: of two pods started at once, one gets the
  // last device and the other finds none left (and is undone).
  const [upB, upC] = await Promise.all([podUp(rigUpOptions(rig, b, 'dataplane', dp))(), podUp(rigUpOptions(rig, c, 'dataplane', dp))()]);
  const [won, lost] = E.isRight(upB) ? [b, upC] : [c, upB];
  t.like(readState(rig.stateRoot, won), { right: { networks: [{ deviceId: 'dataplaneMvp1' }] } });
  t.true(E.isLeft(lost) && /no device of macvtap\.network\.kubevirt\.io\/dataplane: no Healthy device left of 2/.test(describePodError(lost.left)), E.isLeft(lost) ? describePodError(lost.left) : 'both up');
  t.false(await netnsExists(won === b ? c : b));
  t.deepEqual(await macvtapsIn(rig.node.name), [], 'every macvtap made went into a pod');

  // A device Allocate made that no CNI took (as if up had died in between) goes with its pod.
  await sh(['ip', '-n', rig.node.name, 'link', 'add', 'link', 'lowr', 'name', 'dataplaneMvp1', 'type', 'macvtap', 'mode', 'bridge']);
  for (const p of [a, won]) {
    const down = await podDown(rig.stateRoot, p)();
    if (E.isLeft(down)) return t.fail(describePodError(down.left));
    t.false(await netnsExists(p));
  }
  t.deepEqual(await macvtapsIn(rig.node.name), []);
});

// The OpenShift TAP CNI docs' NAD and pod annotation (owner/group made
// nobody's so that an unprivileged VMM can attach; ipam filled in).
test('tap NAD with multiQueue/owner/group/selinuxcontext: the pod gets ext0 with the asked mac, and an unprivileged user attaches its queues', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'setpriv') || !requireCommand(t, '/usr/bin/python3')) return;
  const rig = await podRig(t);
  const config = {
    cniVersion: '0.4.0',
    name: 'tap',
    plugins: [{ type: 'tap', owner: 65534, group: 65534, multiQueue: true, selinuxcontext: 'system_u:system_r:container_t:s0', ipam: rig.hostLocal('10.234.0.0/24') }],
  };
  // The control: the docs' own owner 0 / group 0, which nobody may not attach. (With no
  // owner and no group at all the kernel lets anyone attach: tun_not_capable checks only set ids.)
  const rootOnly = { cniVersion: '1.0.0', name: 'tap-root', type: 'tap', multiQueue: true, owner: 0, group: 0 };
  const nad = (n: string, c: object) => `apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: ${n}\n  namespace: mmirecki\nspec:\n  config: '${JSON.stringify(c)}'\n`;
  rig.writeNads('tap.yaml', `${nad('tap', config)}---\n${nad('tap-root', rootOnly)}`);
  const name = rig.podName();
  const up = await podUp(rigUpOptions(rig, name, '[{"name":"tap","namespace":"mmirecki","interface":"ext0","mac":"50:00:00:00:00:10"}, {"name":"tap-root","namespace":"mmirecki"}]'))();
  if (E.isLeft(up)) return t.fail(describePodError(up.left));
  const ext0 = (await linksIn(name)).find((l) => l.ifname === 'ext0');
  t.like(ext0, { address: '50:00:00:00:00:10', linkinfo: { info_kind: 'tun', info_data: { type: 'tap', multi_queue: true } } });
  t.like(up.right.status[0], { name: 'mmirecki/tap', interface: 'ext0', mac: '50:00:00:00:00:10' });
  t.regex(up.right.status[0]?.ips?.[0] ?? '', /^10\.234\.0\./);

  // As nobody, with no capabilities: open two queues of ext0 (TUNSETIFF, IFF_TAP|IFF_NO_PI|IFF_MULTI_QUEUE).
  const attach = (ifname: string) => [
    'import fcntl, os, struct',
    'fds = []',
    'for _ in range(2):',
    '    fd = os.open("/dev/net/tun", os.O_RDWR)',
    `    fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"${ifname}", 0x0002 | 0x1000 | 0x0100))`,
    '    fds.append(fd)',
    'print(len(fds))',
  ].join('\n');
  const asNobody = (ifname: string) =>
    execa('nsenter', [`--net=/var/run/netns/${name}`, '--', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '/usr/bin/python3', '-c', attach(ifname)], { reject: false });
  const r = await asNobody('ext0');
  t.is(r.exitCode, 0, r.stderr);
  t.is(r.stdout.trim(), '2');
  const control = await asNobody('net2');
  t.not(control.exitCode, 0, 'a tap owned by root is not nobody\'s to attach');
  t.regex(control.stderr, /Operation not permitted|Permission denied/);

  const down = await podDown(rig.stateRoot, name)();
  if (E.isLeft(down)) return t.fail(describePodError(down.left));
  t.false(await netnsExists(name));
  t.deepEqual(rig.leases(), []);
});
