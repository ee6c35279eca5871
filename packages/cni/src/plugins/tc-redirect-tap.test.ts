// ptp/bridge -> tc-redirect-tap conflists run as a runtime runs them, with
// Debian's reference plugins and host-local.
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { makeNetns, requireCommand, requireRoot, sh, uniqueName } from '@tapwire/testkit';
import { Result, resultProblems } from '../spec/result.js';
import { addList, pluginsForTests, leases, REFERENCE_DIR, runList, tempDir, type Conflist, type TestPlugins, type PodEnv } from '../testing.js';

// Standalone bundles, or (TAPWIRE_CNI_MODE=thick, the .thick.test file) forwarders to a daemon.
let plugins: TestPlugins | undefined;
let bin = '';
test.before(async () => {
  plugins = await pluginsForTests();
  bin = plugins.dir;
});
test.after.always(async () => {
  await plugins?.stop();
});

const gate = (t: ExecutionContext): boolean => requireRoot(t) && requireCommand(t, `${REFERENCE_DIR}/ptp`) && requireCommand(t, `${REFERENCE_DIR}/bridge`);

const hostLocal = (dataDir: string, subnet: string) => ({ type: 'host-local', dataDir, ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] });

const links = async (ns: string): Promise<string[]> => (JSON.parse(await sh(['ip', '-n', ns, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
const hostLinks = async (): Promise<string[]> => (JSON.parse(await sh(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);

const setup = async (t: ExecutionContext, first: 'ptp' | 'bridge', subnet: string, args?: string) => {
  const ns = await makeNetns(t, 'twcni');
  const data = tempDir('tapwire-cni-ipam-');
  t.teardown(data.remove);
  const bridge = uniqueName('twcbr');
  // The bridge plugin makes a host bridge; it outlives the pod netns.
  if (first === 'bridge') t.teardown(async () => void (await execa('ip', ['link', 'del', bridge], { reject: false })));
  const list: Conflist = {
    cniVersion: '1.0.0',
    name: `fc${ns.name}`,
    plugins: [
      first === 'ptp' ? { type: 'ptp', ipam: hostLocal(data.path, subnet) } : { type: 'bridge', bridge, isGateway: true, ipam: hostLocal(data.path, subnet) },
      { type: 'tc-redirect-tap' },
    ],
  };
  const pod: PodEnv = { containerId: `c${ns.name}`, netns: ns.path, ifname: 'eth0', path: [bin, REFERENCE_DIR], ...(args === undefined ? {} : { args }) };
  return { ns, data: data.path, list, pod, bridge };
};

for (const first of ['ptp', 'bridge'] as const) {
  test(`${first} -> tc-redirect-tap: tap + redirects as the result says, VM interface with the veth's MAC and IPs; CHECK; DEL twice`, async (t) => {
    if (!gate(t)) return;
    const { ns, data, list, pod } = await setup(t, first, first === 'ptp' ? '10.212.0.0/24' : '10.212.1.0/24', 'IgnoreUnknown=1;TC_REDIRECT_TAP_NAME=tap0');
    const { result, steps } = await addList(list, pod);
    t.deepEqual(steps.map((s) => s.exitCode), [0, 0], steps.map((s) => s.stdout).join('\n'));
    const d = Result.decode(result);
    t.true(E.isRight(d));
    if (E.isLeft(d)) return;
    t.deepEqual(resultProblems(d.right), []);
    const ifs = d.right.interfaces ?? [];
    const veth = ifs.findIndex((i) => i.name === 'eth0' && i.sandbox === ns.path);
    const tap = ifs.findIndex((i) => i.name === 'tap0' && i.sandbox === ns.path);
    const vm = ifs.findIndex((i) => i.name === 'tap0' && i.sandbox === pod.containerId);
    t.true(veth >= 0 && tap > veth && vm > tap, JSON.stringify(ifs));
    t.is(ifs[vm]?.mac, ifs[veth]?.mac);
    // As upstream: eth0 keeps its IP (runtimes read the pod's address there) and the VM interface gets a copy.
    t.deepEqual(d.right.ips?.map((ip) => ip.interface), [veth, vm]);
    t.is(d.right.ips?.[0]?.address, d.right.ips?.[1]?.address);
    // CNI_IFNAME is listed once: runtimes key interfaces by name.
    t.is(ifs.filter((i) => i.name === 'eth0').length, 1, JSON.stringify(ifs));
    const eth0 = JSON.parse(await sh(['ip', '-n', ns.name, '-j', 'link', 'show', 'dev', 'eth0'])) as { address: string }[];
    t.is(eth0[0]?.address, ifs[vm]?.mac);
    const tap0 = JSON.parse(await sh(['ip', '-n', ns.name, '-j', '-d', 'link', 'show', 'dev', 'tap0'])) as { address: string; linkinfo: { info_kind: string } }[];
    t.is(tap0[0]?.address, ifs[tap]?.mac);
    t.is(tap0[0]?.linkinfo.info_kind, 'tun');
    for (const [from, to] of [['eth0', 'tap0'], ['tap0', 'eth0']]) {
      t.regex(await sh(['tc', '-n', ns.name, 'filter', 'show', 'dev', from ?? '', 'ingress']), new RegExp(`Redirect to device ${to}`));
    }
    t.deepEqual((await runList('CHECK', list, pod, result)).map((r) => [r.exitCode, r.stdout]), [[0, ''], [0, '']]);
    // Drift: CHECK says so with code 104.
    await sh(['tc', '-n', ns.name, 'qdisc', 'del', 'dev', 'tap0', 'ingress']);
    const [, drift] = await runList('CHECK', list, pod, result);
    t.like(drift?.json, { code: 104 });
    for (const round of [1, 2]) t.deepEqual((await runList('DEL', list, pod, result)).map((r) => r.exitCode), [0, 0], `DEL ${round}`);
    t.deepEqual(await links(ns.name), ['lo']);
    t.deepEqual(leases(data), []);
  });
}

test('tc-redirect-tap without prevResult, or without CNI_IFNAME in the netns, fails clearly and makes nothing', async (t) => {
  if (!gate(t)) return;
  const { ns, pod } = await setup(t, 'ptp', '10.212.2.0/24');
  const alone: Conflist = { cniVersion: '1.0.0', name: 'alone', plugins: [{ type: 'tc-redirect-tap' }] };
  const { steps } = await addList(alone, pod);
  t.like(steps[0]?.json, { code: 7 });
  t.regex(String(steps[0]?.json?.['msg']), /needs prevResult/);
  const fake = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: ns.path }], ips: [] };
  const r = await runList('CHECK', alone, pod, fake);
  t.like(r[0]?.json, { code: 102 }, 'CHECK: CNI_IFNAME is missing');
  const { steps: s2 } = await addList({ ...alone, plugins: [{ type: 'tc-redirect-tap', prevResult: fake }] }, pod);
  t.like(s2[0]?.json, { code: 102 });
  t.deepEqual(await links(ns.name), ['lo']);
});

test('TC_REDIRECT_TAP_UID/GID give the tap an owner and group', async (t) => {
  if (!gate(t)) return;
  const { ns, list, pod } = await setup(t, 'ptp', '10.212.3.0/24', 'IgnoreUnknown=1;TC_REDIRECT_TAP_UID=65534;TC_REDIRECT_TAP_GID=65534');
  const { result, steps } = await addList(list, pod);
  t.deepEqual(steps.map((s) => s.exitCode), [0, 0], steps.map((s) => s.stdout).join('\n'));
  const tapName = (result?.['interfaces'] as { name: string; sandbox: string }[]).find((i) => i.sandbox === ns.path && i.name !== 'eth0')?.name ?? '';
  t.regex(tapName, /^tw\d+$/, 'the default name is netmodel\'s tw<ifindex>');
  t.regex(await sh(['ip', '-n', ns.name, '-d', 'link', 'show', 'dev', tapName]), /user nobody group nogroup/);
  const bad = await addList({ ...list, plugins: [{ type: 'tc-redirect-tap', prevResult: result }] }, { ...pod, args: 'TC_REDIRECT_TAP_UID=x' });
  t.like(bad.steps[0]?.json, { code: 4 });
  await runList('DEL', list, pod, result);
  t.deepEqual(await links(ns.name), ['lo']);
});

test('20 pods of ADD/DEL leak no link (pod or host) and no lease', async (t) => {
  if (!gate(t)) return;
  const data = tempDir('tapwire-cni-ipam-');
  t.teardown(data.remove);
  // The host-side veths ptp made for these pods (other tests make their own meanwhile).
  const made = new Set<string>();
  const chain: Conflist = { cniVersion: '1.0.0', name: 'loopnet', plugins: [{ type: 'ptp', ipam: hostLocal(data.path, '10.212.16.0/24') }, { type: 'tc-redirect-tap' }] };
  const tapList: Conflist = { cniVersion: '1.0.0', name: 'looptap', plugins: [{ type: 'tap', ipam: hostLocal(data.path, '10.212.17.0/24') }] };
  for (let i = 0; i < 20; i += 1) {
    const ns = await makeNetns(t, 'twcl');
    for (const [list, ifname] of [[chain, 'eth0'], [tapList, 'net1']] as const) {
      const pod: PodEnv = { containerId: `pod${i}`, netns: ns.path, ifname, path: [bin, REFERENCE_DIR] };
      const { result, steps } = await addList(list, pod);
      const ifaces = (result?.['interfaces'] ?? []) as readonly { readonly name: string; readonly sandbox?: string }[];
      for (const iface of ifaces) if (iface.sandbox === undefined || iface.sandbox === '') made.add(iface.name);
      if (steps.some((s) => s.exitCode !== 0)) t.fail(`pod ${i} ${list.name}: ${steps.map((s) => s.stdout).join('\n')}`);
      const del = await runList('DEL', list, pod, result);
      if (del.some((s) => s.exitCode !== 0)) t.fail(`pod ${i} ${list.name} DEL: ${del.map((s) => s.stdout).join('\n')}`);
    }
    t.deepEqual(await links(ns.name), ['lo'], `pod ${i}`);
    await sh(['ip', 'netns', 'del', ns.name]);
  }
  t.deepEqual(leases(data.path), []);
  t.true(made.size >= 20, `ptp reported its host veths: ${[...made].join(', ')}`);
  const leaked = (await hostLinks()).filter((l) => made.has(l));
  t.deepEqual(leaked, []);
});
