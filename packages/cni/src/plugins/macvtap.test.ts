// The bundled `macvtap` executable with a macvtap on a host veth (this kernel
// has no dummy module), and the DP_MACVTAP_CONF parser.
import { existsSync, statSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { makeNetns, requireRoot, sh, uniqueName } from '@tapwire/testkit';
import { defaultResources, parseMacvtapResources } from '../macvtap-resources.js';
import { Result, resultProblems } from '../spec/result.js';
import { addList, pluginsForTests, REFERENCE_DIR, runList, type Conflist, type TestPlugins, type PodEnv } from '../testing.js';

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

const hostVeth = async (t: ExecutionContext): Promise<string> => {
  const a = uniqueName('twva');
  await sh(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', uniqueName('twvb')]);
  // Deleting the veth deletes macvtaps still on it in the host.
  t.teardown(async () => void (await execa('ip', ['link', 'del', a], { reject: false })));
  await sh(['ip', 'link', 'set', a, 'up']);
  return a;
};

const hostHas = async (name: string): Promise<boolean> => (await execa('ip', ['link', 'show', 'dev', name], { reject: false })).exitCode === 0;

test('deviceID: moved into the pod as CNI_IFNAME with MTU, MAC and promisc; CHECK; DEL twice', async (t) => {
  if (!requireRoot(t)) return;
  const lower = await hostVeth(t);
  const dev = uniqueName('twmv');
  await sh(['ip', 'link', 'add', 'link', lower, 'name', dev, 'type', 'macvtap', 'mode', 'bridge']);
  const ifindex = (JSON.parse(await sh(['ip', '-j', 'link', 'show', 'dev', dev])) as { ifindex: number }[])[0]?.ifindex ?? 0;
  // udev makes /dev/tapN asynchronously; the plugin chowns it only if it is there.
  await execa('udevadm', ['settle', '--timeout=5'], { reject: false });
  const node = `/dev/tap${ifindex}`;
  const hasNode = existsSync(node);
  const ns = await makeNetns(t, 'twcni');
  const list: Conflist = { cniVersion: '0.4.0', name: 'dataplane', plugins: [{ type: 'macvtap', deviceID: dev, mtu: 1400, promiscMode: true, owner: 65534, group: 65534 }] };
  const pod: PodEnv = { containerId: `c${ns.name}`, netns: ns.path, ifname: 'net1', args: 'IgnoreUnknown=1;MAC=02:00:00:00:00:99', path: [bin, REFERENCE_DIR] };
  const { result, steps } = await addList(list, pod);
  t.is(steps[0]?.exitCode, 0, steps[0]?.stdout);
  const d = Result.decode(result);
  t.true(E.isRight(d) && resultProblems(d.right).length === 0);
  t.like(result, { interfaces: [{ name: 'net1', mac: '02:00:00:00:00:99', sandbox: ns.path }] });
  t.false(await hostHas(dev));
  const l = (JSON.parse(await sh(['ip', '-n', ns.name, '-j', '-d', 'link', 'show', 'dev', 'net1'])) as Record<string, any>[])[0];
  t.like(l, { mtu: 1400, address: '02:00:00:00:00:99', linkinfo: { info_kind: 'macvtap' } });
  t.true((l?.['flags'] as string[]).includes('PROMISC') && (l?.['flags'] as string[]).includes('UP'));
  // Known limit: udev remakes /dev/tapN (root, 0600) after the move, racing the
  // plugin's chown; what we observe is logged, not asserted (see macvtap.ts).
  await execa('udevadm', ['settle', '--timeout=5'], { reject: false });
  if (hasNode && existsSync(node)) {
    const st = statSync(node);
    t.log(`${node} after ADD and udev settle: uid ${st.uid} gid ${st.gid}`);
  } else {
    t.log(`${node} absent (no udev): ownership is a logged no-op`);
  }
  t.deepEqual((await runList('CHECK', list, pod, result)).map((r) => [r.exitCode, r.stdout]), [[0, '']]);
  for (const round of [1, 2]) t.deepEqual((await runList('DEL', list, pod, result)).map((r) => r.exitCode), [0], `DEL ${round}`);
  t.deepEqual((JSON.parse(await sh(['ip', '-n', ns.name, '-j', 'link', 'show'])) as { ifname: string }[]).map((x) => x.ifname), ['lo']);
});

test('lowerDevice: created in the given mode and moved in; a bad lowerDevice or deviceID fails with 102 leaving nothing', async (t) => {
  if (!requireRoot(t)) return;
  const lower = await hostVeth(t);
  const ns = await makeNetns(t, 'twcni');
  const pod: PodEnv = { containerId: `c${ns.name}`, netns: ns.path, ifname: 'net2', path: [bin, REFERENCE_DIR] };
  const list: Conflist = { cniVersion: '1.0.0', name: 'dp', plugins: [{ type: 'macvtap', lowerDevice: lower, mode: 'vepa' }] };
  // The plugin's temporary names: twm + 8 hex digits.
  const madeHere = async (): Promise<string[]> => (JSON.parse(await sh(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((x) => x.ifname).filter((n) => /^twm[0-9a-f]{8}$/.test(n));
  const { result, steps } = await addList(list, pod);
  t.is(steps[0]?.exitCode, 0, steps[0]?.stdout);
  t.regex(await sh(['ip', '-n', ns.name, '-d', 'link', 'show', 'dev', 'net2']), /macvtap mode vepa/);
  t.deepEqual(await madeHere(), [], 'nothing left in the host');
  await runList('DEL', list, pod, result);
  for (const plugin of [{ type: 'macvtap', lowerDevice: 'twnosuchdev' }, { type: 'macvtap', deviceID: 'twnosuchdev' }]) {
    const r = await addList({ ...list, plugins: [plugin] }, pod);
    t.like(r.steps[0]?.json, { code: 102 });
  }
  const none = await addList({ ...list, plugins: [{ type: 'macvtap' }] }, pod);
  t.like(none.steps[0]?.json, { code: 7 });
  t.deepEqual((JSON.parse(await sh(['ip', '-n', ns.name, '-j', 'link', 'show'])) as { ifname: string }[]).map((x) => x.ifname), ['lo']);
  t.deepEqual(await madeHere(), []);
});

test('DP_MACVTAP_CONF: defaults, resource names, errors naming the field; [] picks physical links and bonds', (t) => {
  const r = parseMacvtapResources('[{"name":"dataplane","lowerDevice":"eth0","capacity":50},{"name":"b","lowerDevice":"bond0","mode":"vepa"}]');
  t.deepEqual(r, E.right([
    { resourceName: 'macvtap.network.kubevirt.io/dataplane', name: 'dataplane', lowerDevice: 'eth0', mode: 'bridge', capacity: 50 },
    { resourceName: 'macvtap.network.kubevirt.io/b', name: 'b', lowerDevice: 'bond0', mode: 'vepa', capacity: 100 },
  ]));
  t.deepEqual(parseMacvtapResources('[]'), E.right([]));
  const bad = parseMacvtapResources('[{"name":"x","lowerDevice":"eth0","mode":"fast","capacity":-1}]');
  t.true(E.isLeft(bad) && bad.left.problems.some((p) => p.includes('[0].mode')) && bad.left.problems.some((p) => p.includes('[0].capacity')));
  t.true(E.isLeft(parseMacvtapResources('{')));
  t.true(E.isLeft(parseMacvtapResources('[{"name":"a","lowerDevice":"x"},{"name":"a","lowerDevice":"y"}]')));
  const link = (name: string, kind: string | undefined) => ({ name, kind }) as never;
  t.deepEqual(
    defaultResources([
      { link: link('eth0', undefined), physical: true },
      { link: link('bond0', 'bond'), physical: false },
      { link: link('veth1', 'veth'), physical: false },
    ]).map((x) => x.resourceName),
    ['macvtap.network.kubevirt.io/eth0', 'macvtap.network.kubevirt.io/bond0'],
  );
});
