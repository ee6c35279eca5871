// `tapwire launch pid:<container pid>` on pods Podman made with our
// tc-redirect-tap chained after the reference plugins: the guest boots on the
// tap the plugin made (launch reuses it, and leaves it to the runtime's DEL)
// and pings the pod's gateway.
import { mkdtempSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { bundlePlugins } from '@tapwire/cni';
import { requireCommand, requireRoot, sh, uniqueName } from '@tapwire/testkit';
import { qemuPidsIn } from '@tapwire/qemu/testing';
import { hostLocal, leases, podmanEnv, REFERENCE_DIR } from './testing.js';

const BIN = fileURLToPath(new URL('../../bin/tapwire.js', import.meta.url));

let bin = '';
test.before(async () => {
  bin = mkdtempSync('/tmp/tapwire-podman-bin-');
  await bundlePlugins(bin);
});
test.after.always(() => {
  if (bin !== '') rmSync(bin, { recursive: true, force: true });
});

const gate = (t: ExecutionContext, first: string): boolean =>
  requireRoot(t) &&
  requireCommand(t, 'podman') &&
  requireCommand(t, 'runc') &&
  requireCommand(t, 'qemu-system-x86_64') &&
  requireCommand(t, `${REFERENCE_DIR}/${first}`) &&
  requireCommand(t, `${REFERENCE_DIR}/host-local`);

/** Name, kind and MAC of every link (operstate follows whether a VMM holds the tap: not compared). */
const podLinks = async (netns: string): Promise<string[]> =>
  (JSON.parse(await sh(['ip', '-n', basename(netns), '-j', '-d', 'link', 'show'])) as { ifname: string; address?: string; linkinfo?: { info_kind?: string } }[]).map(
    (l) => `${l.ifname} ${l.linkinfo?.info_kind ?? '-'} ${l.address ?? '-'}`,
  );


interface LaunchJson {
  readonly ok: boolean;
  readonly attachments: readonly { readonly link: string; readonly tapName: string; readonly existing?: boolean }[];
  readonly guest: { readonly pings: readonly { readonly _tag: string; readonly addr: string }[]; readonly errors?: readonly unknown[] } | null;
  readonly stages: readonly { readonly stage: string; readonly status: string }[];
}

// The ptp pod routes its /24 through the gateway with no kernel prefix route:
// the guest must reproduce that exactly (noprefixroute), not fail on "File exists".
for (const [first, third] of [['bridge', 7], ['ptp', 8]] as const) {
  test.serial(`tapwire launch pid:<container pid> on a Podman ${first} -> tc-redirect-tap pod: the guest pings the gateway`, async (t) => {
    if (!gate(t, first)) return;
    const env = await podmanEnv(t, bin);
    const gateway = `10.214.${third}.1`;
    const head = first === 'bridge' ? { type: 'bridge', bridge: uniqueName('twpb'), isGateway: true } : { type: 'ptp' };
    const net = env.addNetwork([{ ...head, ipam: hostLocal(env.ipamDir, `10.214.${third}.0/24`) }, { type: 'tc-redirect-tap' }]);
    const c = await env.run(net);
    const linksBefore = await podLinks(c.netns);
    const r = await execa('node', [BIN, 'launch', `pid:${c.pid}`, '--accel', 'tcg', '--ping', gateway, '--timeout', '240s', '--json'], { reject: false, timeout: 300_000 });
    t.is(r.exitCode, 0, `${r.stderr}\n${r.stdout.slice(0, 4000)}`);
    const out = JSON.parse(r.stdout) as LaunchJson;
    t.true(out.ok, JSON.stringify(out.stages));
    t.deepEqual(out.guest?.pings.map((p) => [p.addr, p._tag]), [[gateway, 'PingOk']]);
    t.deepEqual(out.attachments.map((a) => [a.link, a.existing === true]), [['eth0', true]], 'launch reused the tap tc-redirect-tap made');
    t.deepEqual(await podLinks(c.netns), linksBefore, 'launch left the pod as the runtime made it');
    t.deepEqual(await qemuPidsIn(c.netns, 2_000), [], 'no QEMU left in the pod netns');
    t.is((await env.podman(['rm', '--force', '--time', '0', c.id])).exitCode, 0);
    t.deepEqual(leases(env.ipamDir), []);
  });
}
