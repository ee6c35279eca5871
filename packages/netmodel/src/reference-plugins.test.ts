// check says ok right after attach, for every model, on netns made by
// Debian's reference CNI plugins (bridge, ptp, macvlan) run as a runtime runs
// them: the "host" side is a throwaway netns too, so nothing touches the host.
// (bridge -> tc-redirect-tap: packages/cni/src/plugins/tap-owner.test.ts.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';
import { attach } from './attach.js';
import { check, detach } from './detach.js';
import type { Model } from './model.js';
import { plan } from './plan.js';
import { readNetns } from './state.js';
import { endpointOf, ipIn, netnsFixture, right, stateOf } from './testing.js';

const REFERENCE_DIR = '/usr/lib/cni';

type PluginName = 'bridge' | 'ptp' | 'macvlan';

const pluginConf = (type: PluginName, i: number, dataDir: string): Record<string, unknown> => {
  const ipam = { type: 'host-local', dataDir, ranges: [[{ subnet: `10.213.${i}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }] };
  const base = { cniVersion: '1.0.0', name: `ref${type}`, type, ipam };
  switch (type) {
    case 'bridge':
      return { ...base, bridge: 'twbr0', isGateway: true };
    case 'ptp':
      return base;
    case 'macvlan':
      return { ...base, master: 'uplink0', mode: 'bridge' };
  }
};

/** ADD (or DEL) of one reference plugin, run inside the host netns. */
const runPlugin = async (command: 'ADD' | 'DEL', type: PluginName, hostPath: string, podPath: string, conf: Record<string, unknown>) => {
  const env = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: command, CNI_CONTAINERID: `c${podPath.split('/').pop() ?? ''}`, CNI_NETNS: podPath, CNI_IFNAME: 'eth0', CNI_PATH: REFERENCE_DIR };
  const r = spawnSync('nsenter', [`--net=${hostPath}`, '--', join(REFERENCE_DIR, type)], { env, input: JSON.stringify(conf), encoding: 'utf8' });
  return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr };
};

const podOf = async (t: ExecutionContext, type: PluginName, i: number) => {
  const host = await makeNetns(t, 'twrh');
  const dataDir = mkdtempSync(join(tmpdir(), 'tapwire-ref-ipam-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // macvlan's master: one end of a veth pair, up, in the host netns.
  if (type === 'macvlan') await ipIn(host.name, ['link add uplink0 type veth peer name uplink0p', 'link set uplink0 up', 'link set uplink0p up']);
  const pod = await netnsFixture(t);
  const conf = pluginConf(type, i, dataDir);
  const add = await runPlugin('ADD', type, host.path, pod.ns.path, conf);
  t.is(add.exitCode, 0, `${type} ADD: ${String(add.stdout)} ${String(add.stderr)}`);
  t.teardown(async () => void (await runPlugin('DEL', type, host.path, pod.ns.path, conf)));
  return pod;
};

/** The pod's state once the kernel is done with it (IPv6 link-local addresses come a moment after ADD). */
const settled = async (ns: Parameters<typeof stateOf>[0]): Promise<unknown> => {
  let last = JSON.stringify(await stateOf(ns));
  for (let i = 0; i < 25; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = JSON.stringify(await stateOf(ns));
    if (now === last && now.includes('fe80::')) break;
    last = now;
  }
  return JSON.parse(last) as unknown;
};


const gate = (t: ExecutionContext): boolean =>
  requireRoot(t) && ['bridge', 'ptp', 'macvlan', 'host-local'].every((p) => requireCommand(t, join(REFERENCE_DIR, p)));

const cases: [PluginName, Model][] = [
  ['bridge', 'tcfilter'],
  ['bridge', 'macvtap'],
  ['ptp', 'tcfilter'],
  ['ptp', 'macvtap'],
  ['macvlan', 'tcfilter'],
  ['macvlan', 'macvtap'],
];

for (const [i, [type, model]] of cases.entries()) {
  test(`${type} pod, model ${model}: check is ok right after attach, detach restores the pod`, async (t) => {
    if (!gate(t)) return;
    const { ns } = await podOf(t, type, i);
    const before = await settled(ns);
    const a = right(t, await attach(ns, await endpointOf(ns, 'eth0'), model)());
    const reports = right(t, await check(ns)());
    t.deepEqual(reports.map((r) => [r.attachment.link, r.attachment.model, r.findings.map((f) => f.message)]), [['eth0', model, []]]);
    t.deepEqual(right(t, await check(ns, 'eth0')()).flatMap((r) => r.findings), []);
    t.deepEqual(right(t, await check(ns, a)()).flatMap((r) => r.findings), []);
    right(t, await detach(ns, a)());
    // The plugins' links have txqueuelen 0, which an ingress qdisc raises to 1000: detach puts it back.
    t.deepEqual(await stateOf(ns), before);
    // So does the rollback of an attach failing at its last step.
    const last = right(t, plan(await endpointOf(ns, 'eth0'), model, { routes: right(t, await readNetns(ns)()).routes }));
    const failAt = { phase: last.phases.length, step: last.phases[last.phases.length - 1]?.ops.length ?? 1 };
    t.like(await attach(ns, await endpointOf(ns, 'eth0'), model, { failAt })(), { _tag: 'Left', left: { _tag: 'ApplyFailed', rollbackErrors: [] } });
    t.deepEqual(await stateOf(ns), before);
  });
}
