// `tapwire pod up` then `tapwire launch <pod>`: a KubeVirt-style VM with a
// primary network (bridge + host-local, tc-redirect-tap's tap) and a macvtap
// secondary network from the macvtap-cni `dataplane` NAD, its device
// allocated by the device plugin; the TCG guest pings both networks' peers,
// then `tapwire pod down` leaves nothing. The verbs one by one, through the
// executable, on the rig `tapwire pod demo` runs them on: the example NADs
// and a throwaway node netns (bridge, lower device, veth host ends), never
// the host's. (pod-demo.test.ts runs the demo itself.)
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import { installPlugins } from '@tapwire/cni';
import * as E from 'fp-ts/lib/Either.js';
import { requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { captureOutput } from '../capture.js';
import { describeCliError, exitCodeOf } from '../cli-error.js';
import { makePodDemoRig } from './pod-demo.js';
import { podCommand } from './pod.js';

const TAPWIRE = fileURLToPath(new URL('../../bin/tapwire.js', import.meta.url));

test('tapwire pod up (default bridge -> tc-redirect-tap, macvtap dataplane via the device plugin), launch pings over both, pod down leaves nothing', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'nsenter') || !requireCommand(t, 'qemu-system-x86_64') || !requireCommand(t, '/usr/lib/cni/bridge')) return;
  t.timeout(480_000);
  const made = await makePodDemoRig();
  if (E.isLeft(made)) return t.fail(made.left);
  const rig = made.right;
  const { pod: name, stateDir: pods } = rig;
  t.teardown(async () => {
    await execa(process.execPath, [TAPWIRE, 'pod', 'down', name, '--state-dir', pods], { reject: false });
    await rig.remove();
  });
  await installPlugins(rig.cniPath[0] ?? '');
  const tapwire = (args: readonly string[], timeout = 120_000) => execa(process.execPath, [TAPWIRE, ...args], { reject: false, timeout, env: { CNI_PATH: rig.cniPath.join(':') } });

  let started = Date.now();
  const up = await tapwire([
    'pod', 'up', name,
    '--nad-dir', rig.nadDir,
    '--networks', rig.networks,
    '--default', rig.defaultConf,
    '--state-dir', pods,
    '--node-netns', rig.nodeNetns,
    '--device-plugin-conf', rig.devicePluginConf,
    '--json',
  ]);
  t.log(`tapwire pod up took ${Date.now() - started} ms`);
  t.is(up.exitCode, 0, up.stderr);
  const report = JSON.parse(up.stdout) as { netns: string; 'network-status': { name: string; interface: string; ips?: string[]; mac?: string; default?: boolean }[] };
  t.is(report.netns, `/var/run/netns/${name}`);
  t.like(report['network-status'], [
    { name: 'podnet', interface: 'eth0', default: true },
    { name: 'default/dataplane', interface: 'net1', ips: ['192.0.2.10'], mac: '02:23:45:67:89:01' },
  ]);
  const status = await tapwire(['pod', 'status', name, '--state-dir', pods, '--json']);
  t.deepEqual(JSON.parse(status.stdout), report['network-status']);

  started = Date.now();
  const [gateway, peer] = rig.pings;
  const launch = await tapwire(['launch', name, '--accel', 'tcg', '--ping', gateway, '--ping', peer, '--timeout', '300s', '--json'], 400_000);
  t.log(`tapwire launch (TCG boot + 2 pings) took ${Date.now() - started} ms`);
  t.is(launch.exitCode, 0, `${String(launch.stderr).slice(-3000)}\n${String(launch.stdout).slice(0, 3000)}`);
  const booted = JSON.parse(String(launch.stdout)) as { ok: boolean; attachments: { link: string; device?: string; guestMac?: string; existing?: boolean }[]; guest: { pings: { addr: string; _tag: string }[] } | null };
  t.true(booted.ok);
  t.deepEqual(booted.guest?.pings.map((p) => [p.addr, p._tag]), [[gateway, 'PingOk'], [peer, 'PingOk']]);
  t.log(JSON.stringify(booted.attachments));

  const down = await tapwire(['pod', 'down', name, '--state-dir', pods]);
  t.is(down.exitCode, 0, down.stderr);
  t.false((await sh(['ip', 'netns', 'list'])).split('\n').some((l) => l.split(' ')[0] === name));
  t.false(existsSync(join(pods, name)));
  t.deepEqual(readdirSync(join(rig.dir, 'ipam'), { recursive: true, encoding: 'utf8' }).filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f)), []);
  const nodeLinks = JSON.parse(await sh(['ip', '-n', rig.nodeNetns, '-j', '-d', 'link', 'show'])) as { ifname: string; linkinfo?: { info_kind?: string } }[];
  t.deepEqual(nodeLinks.filter((l) => ['veth', 'macvtap'].includes(l.linkinfo?.info_kind ?? '') && !['dp0', 'dp0peer'].includes(l.ifname)).map((l) => l.ifname), []);
});

test('pod: bad command lines and unknown pods are exit 2 / 1 with the reason, before anything is made', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'twpodcli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (argv: readonly string[]): Promise<[number, string]> => {
    const r = await podCommand(argv, captureOutput());
    return E.isRight(r) ? [0, ''] : [exitCodeOf(r.left), describeCliError(r.left).split('\n')[0] ?? ''];
  };
  t.deepEqual(await run([]), [2, 'pod: expected up, status, down or demo']);
  t.deepEqual(await run(['up']), [2, 'pod: expected exactly one pod name']);
  t.deepEqual(await run(['up', 'vm1', '--networks', 'a']), [2, 'pod: up needs --nad-dir DIR']);
  t.deepEqual(await run(['up', 'vm1', '--nad-dir', dir, '--networks', 'a/b/c', '--state-dir', dir]), [
    2,
    'pod: bad k8s.v1.cni.cncf.io/networks annotation "a/b/c": element 1: "a/b/c" has more than one \'/\' or \'@\' (expected [namespace/]name[@interface])',
  ]);
  t.deepEqual(await run(['up', 'Not_A_Label', '--nad-dir', dir, '--state-dir', dir]), [2, 'pod: bad pod name "Not_A_Label": expected a DNS-1123 label (it also names the netns)']);
  t.deepEqual(await run(['up', 'vm1', '--nad-dir', dir, '--networks', 'nope', '--state-dir', dir]), [1, 'pod: no NetworkAttachmentDefinition default/nope (known: none)']);
  t.deepEqual(await run(['status', 'ghost', '--state-dir', dir]), [1, `pod: no pod ghost in ${dir}`]);
  t.deepEqual(await run(['down', 'ghost', '--state-dir', dir]), [1, `pod: no pod ghost in ${dir}`]);
  t.deepEqual(readdirSync(dir), [], 'nothing was made');
});
