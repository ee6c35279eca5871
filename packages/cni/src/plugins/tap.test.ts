// The bundled `tap` executable run as a runtime runs it, with Debian's
// host-local for IPAM, in real throwaway netns.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { Result, resultProblems } from '../spec/result.js';
import { addList, pluginsForTests, envOf, invoke, leases, REFERENCE_DIR, runList, tempDir, type Conflist, type TestPlugins, type PodEnv } from '../testing.js';

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

const gate = (t: ExecutionContext): boolean => requireRoot(t) && requireCommand(t, `${REFERENCE_DIR}/host-local`);

const setup = async (t: ExecutionContext, subnet: string, plugin: Record<string, unknown> = {}, cniVersion = '1.0.0') => {
  const ns = await makeNetns(t, 'twcni');
  const data = tempDir('tapwire-cni-ipam-');
  t.teardown(data.remove);
  const list: Conflist = {
    cniVersion,
    name: 'tapnet',
    plugins: [{ type: 'tap', ipam: { type: 'host-local', dataDir: data.path, ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] }, ...plugin }],
  };
  const pod: PodEnv = { containerId: `c${ns.name}`, netns: ns.path, ifname: 'net1', path: [bin, REFERENCE_DIR] };
  return { ns, data: data.path, list, pod };
};

const linkJson = async (ns: string, dev: string): Promise<Record<string, any> | undefined> => {
  const r = await execa('ip', ['-n', ns, '-j', '-d', 'addr', 'show', 'dev', dev], { reject: false });
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Record<string, any>[])[0] : undefined;
};

const links = async (ns: string): Promise<string[]> => (JSON.parse(await sh(['ip', '-n', ns, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);

test('ADD makes the tap the result describes; CHECK passes; DEL twice leaves no link and no lease', async (t) => {
  if (!gate(t)) return;
  const { ns, data, list, pod } = await setup(t, '10.211.0.0/24', { mtu: 1400, multiQueue: true, mac: '02:11:22:33:44:55' });
  const { result, steps } = await addList(list, pod);
  t.is(steps[0]?.exitCode, 0, steps[0]?.stdout);
  const decoded = Result.decode(result);
  t.true(E.isRight(decoded));
  if (E.isLeft(decoded)) return;
  t.deepEqual(resultProblems(decoded.right), []);
  t.like(decoded.right, { cniVersion: '1.0.0', interfaces: [{ name: 'net1', mac: '02:11:22:33:44:55', sandbox: ns.path }], ips: [{ address: '10.211.0.2/24', gateway: '10.211.0.1', interface: 0 }], routes: [{ dst: '0.0.0.0/0' }] });
  const l = await linkJson(ns.name, 'net1');
  t.like(l, { mtu: 1400, address: '02:11:22:33:44:55', linkinfo: { info_kind: 'tun', info_data: { type: 'tap', multi_queue: true } } });
  t.true((l?.['flags'] as string[]).includes('UP'));
  t.deepEqual(l?.['addr_info'].filter((a: any) => a.family === 'inet').map((a: any) => `${a.local}/${a.prefixlen}`), ['10.211.0.2/24']);
  t.regex(await sh(['ip', '-n', ns.name, 'route', 'show', 'default']), /default via 10\.211\.0\.1 dev net1/);
  t.deepEqual(leases(data), ['tapnet/10.211.0.2']);
  t.deepEqual((await runList('CHECK', list, pod, result)).map((r) => [r.exitCode, r.stdout]), [[0, '']]);
  for (const round of [1, 2]) t.deepEqual((await runList('DEL', list, pod, result)).map((r) => [r.exitCode, r.stdout]), [[0, '']], `DEL ${round}`);
  t.deepEqual(await links(ns.name), ['lo']);
  t.deepEqual(leases(data), []);
});

test('CHECK reports drift with code 104', async (t) => {
  if (!gate(t)) return;
  const { ns, list, pod } = await setup(t, '10.211.1.0/24', { mtu: 1400 });
  const { result } = await addList(list, pod);
  await sh(['ip', '-n', ns.name, 'link', 'set', 'dev', 'net1', 'mtu', '1500']);
  const [c] = await runList('CHECK', list, pod, result);
  t.is(c?.exitCode, 1);
  t.like(c?.json, { code: 104 });
  t.regex(String(c?.json?.['details']), /MTU 1500, the config says 1400/);
  await runList('DEL', list, pod, result);
});

test('MAC precedence: runtimeConfig.mac over CNI_ARGS MAC= over the config mac', async (t) => {
  if (!gate(t)) return;
  const cases: [Record<string, unknown>, string | undefined, string][] = [
    [{ mac: '02:00:00:00:00:01' }, undefined, '02:00:00:00:00:01'],
    [{ mac: '02:00:00:00:00:01' }, 'IgnoreUnknown=1;MAC=02:00:00:00:00:02', '02:00:00:00:00:02'],
    // host-local refuses unknown CNI_ARGS unless IgnoreUnknown=1, as runtimes always pass it.
    [{ mac: '02:00:00:00:00:01', runtimeConfig: { mac: '02:00:00:00:00:03' } }, 'IgnoreUnknown=1;MAC=02:00:00:00:00:02', '02:00:00:00:00:03'],
  ];
  for (const [i, [plugin, args, want]] of cases.entries()) {
    const { ns, list, pod } = await setup(t, `10.211.${10 + i}.0/24`, plugin);
    const p = args === undefined ? pod : { ...pod, args };
    const { result } = await addList(list, p);
    t.like(result, { interfaces: [{ mac: want }] });
    t.is((await linkJson(ns.name, 'net1'))?.['address'], want);
    await runList('DEL', list, p, result);
  }
});

test('every version: 0.3.1 and 0.4.0 ips carry version, 1.1.0 works with a 1.0.0-only host-local; STATUS and GC on 1.1.0', async (t) => {
  if (!gate(t)) return;
  for (const [i, v] of ['0.3.1', '0.4.0', '1.1.0'].entries()) {
    const { list, pod, data } = await setup(t, `10.211.${20 + i}.0/24`, {}, v);
    const { result, steps } = await addList(list, pod);
    t.is(steps[0]?.exitCode, 0, steps[0]?.stdout);
    const d = Result.decode(result);
    t.true(E.isRight(d) && resultProblems(d.right).length === 0, v);
    t.is((result?.['ips'] as { version?: string }[])[0]?.version, v === '1.1.0' ? undefined : '4');
    if (v === '1.1.0') {
      t.like(result, { interfaces: [{ mtu: 1500 }] });
      for (const cmd of ['STATUS', 'GC']) {
        const conf = JSON.stringify({ ...list.plugins[0], cniVersion: v, name: list.name, 'cni.dev/valid-attachments': [] });
        const r = await invoke(join(bin, 'tap'), { ...envOf(cmd, pod) }, conf);
        t.is(r.exitCode, 0, `${cmd}: ${r.stdout}`);
      }
    }
    await runList('DEL', list, pod, result);
    t.deepEqual(leases(data), []);
  }
});

test('bridge: the tap is enslaved to the bridge in the pod netns', async (t) => {
  if (!gate(t)) return;
  const { ns, list, pod } = await setup(t, '10.211.30.0/24', { bridge: 'br-pod' });
  await sh(['ip', '-n', ns.name, 'link', 'add', 'br-pod', 'type', 'bridge']);
  const { result } = await addList(list, pod);
  t.is((await linkJson(ns.name, 'net1'))?.['master'], 'br-pod');
  t.deepEqual((await runList('CHECK', list, pod, result)).map((r) => r.exitCode), [0]);
  await runList('DEL', list, pod, result);
  t.deepEqual(await links(ns.name), ['lo', 'br-pod']);
});

test('ADD failing part-way (bridge missing) leaves no link and no lease', async (t) => {
  if (!gate(t)) return;
  const { ns, data, list, pod } = await setup(t, '10.211.31.0/24', { bridge: 'nobridge', mtu: 1400 });
  const { steps } = await addList(list, pod);
  t.is(steps[0]?.exitCode, 1);
  t.like(steps[0]?.json, { cniVersion: '1.0.0', code: 102 });
  t.deepEqual(await links(ns.name), ['lo']);
  t.deepEqual(leases(data), []);
});

test('CNI_IFNAME already taken: code 105, the existing link untouched, no lease', async (t) => {
  if (!gate(t)) return;
  const { ns, data, list, pod } = await setup(t, '10.211.32.0/24');
  await sh(['ip', '-n', ns.name, 'link', 'add', 'net1', 'type', 'bridge']);
  const { steps } = await addList(list, pod);
  t.like(steps[0]?.json, { code: 105 });
  t.deepEqual(await links(ns.name), ['lo', 'net1']);
  t.is((await linkJson(ns.name, 'net1'))?.['linkinfo']?.['info_kind'], 'bridge');
  t.deepEqual(leases(data), []);
  // DEL leaves a link that is not a tap alone.
  t.deepEqual((await runList('DEL', list, pod, undefined)).map((r) => r.exitCode), [0]);
  t.deepEqual(await links(ns.name), ['lo', 'net1']);
});

test('bad configs and bad environments give the spec codes and leave nothing', async (t) => {
  if (!gate(t)) return;
  const { ns, data, list, pod } = await setup(t, '10.211.33.0/24');
  const good = JSON.stringify({ ...list.plugins[0], cniVersion: '1.0.0', name: 'tapnet' });
  const tap = join(bin, 'tap');
  const cases: [string, Record<string, string>, string, number][] = [
    ['not JSON', envOf('ADD', pod), '{"cniVersion":', 6],
    ['unknown version', envOf('ADD', pod), good.replace('"1.0.0"', '"9.9.9"'), 1],
    ['bad mtu', envOf('ADD', pod), JSON.stringify({ ...JSON.parse(good), mtu: 10 }), 7],
    ['bad owner', envOf('ADD', pod), JSON.stringify({ ...JSON.parse(good), owner: -1 }), 7],
    ['ifname too long', envOf('ADD', { ...pod, ifname: 'x'.repeat(16) }), good, 4],
    ['ifname with /', envOf('ADD', { ...pod, ifname: 'a/b' }), good, 4],
    ['bad container id', envOf('ADD', { ...pod, containerId: '_x' }), good, 4],
    ['relative netns', envOf('ADD', { ...pod, netns: 'run/netns/x' }), good, 4],
    ['netns not a namespace', envOf('ADD', { ...pod, netns: '/etc/hostname' }), good, 4],
    ['netns gone', envOf('ADD', { ...pod, netns: '/var/run/netns/tapwire-no-such-ns' }), good, 3],
    ['bad CNI_ARGS MAC', envOf('ADD', { ...pod, args: 'MAC=zz' }), good, 4],
    ['IPAM plugin missing', envOf('ADD', { ...pod, path: [bin] }), good, 103],
  ];
  for (const [what, env, stdin, code] of cases) {
    const r = await invoke(tap, env, stdin);
    t.is(r.exitCode, 1, what);
    t.is(r.json?.['code'], code, `${what}: ${r.stdout}`);
    t.is(typeof r.json?.['msg'], 'string', what);
    t.is(typeof r.json?.['cniVersion'], 'string', what);
  }
  t.deepEqual(await links(ns.name), ['lo']);
  t.deepEqual(leases(data), []);
});

test('DEL succeeds when the netns is already gone and still releases the lease', async (t) => {
  if (!gate(t)) return;
  const { ns, data, list, pod } = await setup(t, '10.211.34.0/24');
  const { result } = await addList(list, pod);
  t.is(leases(data).length, 1);
  await sh(['ip', 'netns', 'del', ns.name]);
  t.deepEqual((await runList('DEL', list, pod, result)).map((r) => r.exitCode), [0]);
  t.deepEqual((await runList('DEL', list, { ...pod, netns: undefined }, result)).map((r) => r.exitCode), [0]);
  t.deepEqual(leases(data), []);
});

// The system python: a per-user one (pyenv shims under /root) is not reachable by uid 65534.
const PYTHON = '/usr/bin/python3';

// TUNSETIFF on the tap as another user: the kernel lets the owner (or group) in, refuses others.
const ATTACH = `
import fcntl, os, struct, sys
fd = os.open('/dev/net/tun', os.O_RDWR)
flags = 0x0002 | 0x1000 | (0x0100 if sys.argv[2] == 'mq' else 0)
try:
    fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', sys.argv[1].encode(), flags))
    print('attached')
except OSError as e:
    print(os.strerror(e.errno))
`;

test('owner/group: an unprivileged uid can attach a queue, others are refused', async (t) => {
  if (!gate(t) || !requireCommand(t, 'setpriv') || !requireCommand(t, PYTHON)) return;
  const { list, pod } = await setup(t, '10.211.35.0/24', { owner: 65534, group: 65534, multiQueue: true, mtu: 1300, mac: '02:00:00:00:aa:01' });
  const script = tempDir('tapwire-cni-attach-');
  t.teardown(script.remove);
  const file = join(script.path, 'attach.py');
  writeFileSync(file, ATTACH, { mode: 0o644 });
  await execa('chmod', ['755', script.path]);
  const { result } = await addList(list, pod);
  t.like(result, { interfaces: [{ mac: '02:00:00:00:aa:01' }] });
  const as = async (uid: number, gid: number): Promise<string> =>
    (await execa('nsenter', [`--net=${pod.netns ?? ''}`, 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', PYTHON, file, 'net1', 'mq'], { reject: false })).stdout.trim();
  t.is(await as(65534, 65534), 'attached');
  // With both set the kernel wants both (tun_not_capable); either alone is refused.
  t.is(await as(65533, 65534), 'Operation not permitted');
  t.is(await as(65534, 65533), 'Operation not permitted');
  t.is(await as(65533, 65533), 'Operation not permitted');
  // MTU and MAC are applied with owner and group set too.
  const l = await linkJson(pod.netns?.split('/').pop() ?? '', 'net1');
  t.like(l, { mtu: 1300, address: '02:00:00:00:aa:01', linkinfo: { info_data: { user: 'nobody' } } });
  await runList('DEL', list, pod, result);
});
