// Our CNI plugins under the real runtime: Debian's Podman 4.3 (CNI backend,
// libcni 1.1) with runc, each test with a Podman env of its own (testing.ts).
// Podman validates every conflist with libcni's VERSION probe and silently
// drops one whose plugin fails it, so a listed network is the first check.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { bundlePlugins } from '@tapwire/cni';
import { requireCommand, requireRoot, sh, uniqueName } from '@tapwire/testkit';
import { hostLinks, hostLocal, IMAGE, leases, podmanEnv, REFERENCE_DIR, type Container, type PodmanEnv } from './testing.js';

let bin = '';
test.before(async () => {
  bin = mkdtempSync('/tmp/tapwire-podman-bin-');
  await bundlePlugins(bin);
});
test.after.always(() => {
  if (bin !== '') rmSync(bin, { recursive: true, force: true });
});

const gate = (t: ExecutionContext): boolean =>
  requireRoot(t) && requireCommand(t, 'podman') && requireCommand(t, 'runc') && requireCommand(t, `${REFERENCE_DIR}/host-local`);

interface NsLink {
  readonly ifname: string;
  readonly address: string;
  readonly linkinfo?: { readonly info_kind?: string; readonly info_data?: { readonly type?: string } };
  readonly addr_info: readonly { readonly family: string; readonly local: string; readonly prefixlen: number }[];
}

const nsLinks = async (c: Container): Promise<NsLink[]> => JSON.parse(await sh(['ip', '-n', basename(c.netns), '-j', '-d', 'addr', 'show'])) as NsLink[];
const v4 = (l: NsLink | undefined): string | undefined => l?.addr_info.find((a) => a.family === 'inet')?.local;

/** The address Podman reports for the container on `network`. */
const podmanIp = async (env: PodmanEnv, c: Container, network: string): Promise<string> =>
  (await env.podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, c.id])).stdout.trim();

interface ResultIface {
  readonly name: string;
  readonly mac?: string;
  readonly sandbox?: string;
}
const ifacesOf = (r: Record<string, unknown> | undefined): ResultIface[] => (r?.['interfaces'] ?? []) as ResultIface[];

/** After DEL: no netns, no lease, no libcni cache entry, none of the host links the result named. */
const assertDeleted = async (t: ExecutionContext, env: PodmanEnv, c: Container, network: string, hostSide: readonly string[]): Promise<void> => {
  t.false(existsSync(c.netns), `${c.netns} is gone`);
  t.deepEqual(leases(env.ipamDir), [], 'no host-local lease left');
  t.is(env.cachedResult(network, c.id), undefined, 'libcni cache entry removed');
  const host = await hostLinks();
  t.deepEqual(hostSide.filter((l) => host.includes(l)), [], 'no host-side link left');
};

test.serial('podman network ls/inspect list every network naming our plugins (libcni VERSION probe passes)', async (t) => {
  if (!gate(t)) return;
  const env = await podmanEnv(t, bin);
  const nets = {
    tap: env.addNetwork([{ type: 'tap', ipam: hostLocal(env.ipamDir, '10.214.0.0/24') }]),
    bridge: env.addNetwork([{ type: 'bridge', bridge: uniqueName('twpb'), isGateway: true, ipam: hostLocal(env.ipamDir, '10.214.1.0/24') }, { type: 'tc-redirect-tap' }]),
    ptp: env.addNetwork([{ type: 'ptp', ipam: hostLocal(env.ipamDir, '10.214.2.0/24') }, { type: 'tc-redirect-tap' }]),
    macvtap: env.addNetwork([{ type: 'macvtap', deviceID: 'twnone0' }]),
  };
  const ls = await env.podman(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
  t.is(ls.exitCode, 0, ls.stderr);
  const listed = ls.stdout.split('\n');
  for (const [driver, name] of Object.entries(nets)) t.true(listed.includes(`${name} ${driver}`), `${name} ${driver} in:\n${ls.stdout}\n${ls.stderr}`);
  t.notRegex(ls.stderr, /twp/, 'no warning about our conflists');
  for (const [driver, name] of Object.entries(nets)) {
    const ins = await env.podman(['network', 'inspect', name]);
    t.is(ins.exitCode, 0, ins.stderr);
    t.like((JSON.parse(ins.stdout) as unknown[])[0], { name, driver });
  }
});

test.serial('standalone tap with host-local: eth0 is a tap with the lease Podman reports; stop runs DEL', async (t) => {
  if (!gate(t)) return;
  const env = await podmanEnv(t, bin);
  const net = env.addNetwork([{ type: 'tap', mtu: 1400, ipam: hostLocal(env.ipamDir, '10.214.3.0/24') }]);
  const c = await env.run(net);
  const eth0 = (await nsLinks(c)).find((l) => l.ifname === 'eth0');
  t.like(eth0, { linkinfo: { info_kind: 'tun', info_data: { type: 'tap' } } });
  const ip = v4(eth0) ?? '';
  t.regex(ip, /^10\.214\.3\./);
  t.is(await podmanIp(env, c, net), ip);
  t.deepEqual(leases(env.ipamDir), [`${net}/${ip}`]);
  t.like(ifacesOf(env.cachedResult(net, c.id))[0], { name: 'eth0', mac: eth0?.address, sandbox: c.netns });
  const stop = await env.podman(['stop', '--time', '0', c.id]);
  t.is(stop.exitCode, 0, stop.stderr);
  await assertDeleted(t, env, c, net, []);
  t.is((await env.podman(['rm', c.id])).exitCode, 0);
});

for (const first of ['bridge', 'ptp'] as const) {
  test.serial(`${first} -> tc-redirect-tap: eth0 + tap wired by tc; Podman gets eth0's IP; ${first === 'bridge' ? 'stop then rm' : 'rm -f'} runs DEL`, async (t) => {
    if (!gate(t) || !requireCommand(t, `${REFERENCE_DIR}/${first}`)) return;
    const env = await podmanEnv(t, bin);
    const subnet = first === 'bridge' ? '10.214.4.0/24' : '10.214.5.0/24';
    const bridge = first === 'bridge' ? uniqueName('twpb') : undefined;
    const head = bridge === undefined ? { type: 'ptp' } : { type: 'bridge', bridge, isGateway: true };
    const net = env.addNetwork([{ ...head, ipam: hostLocal(env.ipamDir, subnet) }, { type: 'tc-redirect-tap' }]);
    const c = await env.run(net);
    const links = await nsLinks(c);
    const eth0 = links.find((l) => l.ifname === 'eth0');
    const ip = v4(eth0) ?? '';
    t.is(await podmanIp(env, c, net), ip);
    const result = env.cachedResult(net, c.id);
    const ifs = ifacesOf(result);
    t.is(ifs.filter((i) => i.name === 'eth0').length, 1, `eth0 listed once: ${JSON.stringify(ifs)}`);
    const vm = ifs.find((i) => i.sandbox === c.id);
    const tap = ifs.find((i) => i.sandbox === c.netns && i.name === vm?.name);
    t.truthy(tap, `the tap and the VM interface share the tap's name: ${JSON.stringify(ifs)}`);
    t.is(vm?.mac, eth0?.address, 'the VM interface carries eth0\'s MAC');
    t.like(links.find((l) => l.ifname === tap?.name), { linkinfo: { info_kind: 'tun' } });
    t.regex(await sh(['tc', '-n', basename(c.netns), 'filter', 'show', 'dev', 'eth0', 'ingress']), new RegExp(`Redirect to device ${tap?.name ?? '-'}`));
    const hostSide = ifs.filter((i) => (i.sandbox ?? '') === '' && i.name !== bridge).map((i) => i.name);
    t.true(hostSide.length > 0, 'the result names the host-side veth');
    if (first === 'bridge') {
      t.is((await env.podman(['stop', '--time', '0', c.id])).exitCode, 0);
      await assertDeleted(t, env, c, net, hostSide);
      t.is((await env.podman(['rm', c.id])).exitCode, 0);
    } else {
      t.is((await env.podman(['rm', '--force', '--time', '0', c.id])).exitCode, 0);
      await assertDeleted(t, env, c, net, hostSide);
    }
  });
}

// What docs/cni.md tells users: Podman 4's libcni (1.1) takes results up to
// 1.0.0. When this starts passing a 1.1.0 network, update the doc's table.
test.serial('Podman 4 refuses a cniVersion 1.1.0 result, and its DEL after the failed ADD leaves nothing', async (t) => {
  if (!gate(t)) return;
  const env = await podmanEnv(t, bin);
  const net = env.addNetwork([{ type: 'tap', ipam: hostLocal(env.ipamDir, '10.214.9.0/24') }], { cniVersion: '1.1.0' });
  const r = await env.podman(['run', '--detach', '--network', net, IMAGE, 'sleep', '3600']);
  t.not(r.exitCode, 0);
  t.regex(r.stderr, /unsupported CNI result version "1\.1\.0"/);
  t.deepEqual(leases(env.ipamDir), []);
  const ns = (await env.podman(['ps', '--all', '--format', '{{.ID}}'])).stdout.trim();
  const sandbox = (await env.podman(['inspect', '--format', '{{.NetworkSettings.SandboxKey}}', ns])).stdout.trim();
  t.false(sandbox !== '' && existsSync(sandbox), `the failed container's netns ${sandbox} is gone`);
});

// libcni 1.2+ picks the highest of cniVersions it knows; libcni 1.1 ignores the key.
test.serial('cniVersion 1.0.0 with cniVersions [1.0.0, 1.1.0] works on Podman 4', async (t) => {
  if (!gate(t)) return;
  const env = await podmanEnv(t, bin);
  const net = env.addNetwork([{ type: 'tap', ipam: hostLocal(env.ipamDir, '10.214.10.0/24') }], { cniVersion: '1.0.0', cniVersions: ['1.0.0', '1.1.0'] });
  const c = await env.run(net);
  t.like(env.cachedResult(net, c.id), { cniVersion: '1.0.0' });
  t.regex(await podmanIp(env, c, net), /^10\.214\.10\./);
  t.is((await env.podman(['rm', '--force', '--time', '0', c.id])).exitCode, 0);
  await assertDeleted(t, env, c, net, []);
});

test.serial('macvtap by deviceID: the host macvtap becomes eth0 with the lease Podman reports; stop runs DEL', async (t) => {
  if (!gate(t)) return;
  const env = await podmanEnv(t, bin);
  const lower = uniqueName('twpva');
  await sh(['ip', 'link', 'add', lower, 'type', 'veth', 'peer', 'name', uniqueName('twpvb')]);
  // Deleting the lower deletes a macvtap still on it.
  t.teardown(async () => void (await execa('ip', ['link', 'del', lower], { reject: false })));
  await sh(['ip', 'link', 'set', lower, 'up']);
  const dev = uniqueName('twpmv');
  await sh(['ip', 'link', 'add', 'link', lower, 'name', dev, 'type', 'macvtap', 'mode', 'bridge']);
  const net = env.addNetwork([{ type: 'macvtap', deviceID: dev, ipam: hostLocal(env.ipamDir, '10.214.6.0/24') }]);
  const c = await env.run(net);
  const eth0 = (await nsLinks(c)).find((l) => l.ifname === 'eth0');
  t.like(eth0, { linkinfo: { info_kind: 'macvtap' } });
  t.false((await hostLinks()).includes(dev), 'moved out of the host netns');
  const ip = v4(eth0) ?? '';
  t.regex(ip, /^10\.214\.6\./);
  t.is(await podmanIp(env, c, net), ip);
  t.is((await env.podman(['stop', '--time', '0', c.id])).exitCode, 0);
  await assertDeleted(t, env, c, net, [dev]);
  t.is((await env.podman(['rm', c.id])).exitCode, 0);
});
