// The guest ends with exactly the pod's routing, on pods made by the real
// reference plugins (Debian's /usr/lib/cni, run the way a runtime runs them:
// CNI_* env, config on stdin, host-local IPAM with its own data dir). Every
// plugin runs inside a throwaway "host" netns, so its bridge, host veth and
// macvlan master never touch this machine. launchPod boots the guest (TCG);
// the routes the guest prints on its console must be the pod's, route for
// route, IPv4 and IPv6.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { decodeRoutes } from '@tapwire/endpoints';
import { netnsState } from '@tapwire/netmodel';
import { makeNetns, sh } from '@tapwire/testkit';
import { guestRoutingError, describeGuestRoutingError, routingEntryOf, routingTable, type GuestReport } from '../guest/index.js';
import { describeLaunchError } from './errors.js';
import { launchPod } from './launch-pod.js';
import { guestImage, netnsHandle, requireGuestBoot } from '../testing/guest-pod.js';

const CNI_BIN = '/usr/lib/cni';
const BOOT_TIMEOUT_MS = 240_000;

const gate = (t: ExecutionContext): boolean => requireGuestBoot(t, `${CNI_BIN}/ptp`);

interface Pod {
  readonly host: { readonly name: string; readonly path: string };
  readonly pod: { readonly name: string; readonly path: string };
  readonly dataDir: string;
}

/** A host netns for the plugins, a pod netns, and host-local's data dir: all removed on teardown. */
const makePod = async (t: ExecutionContext): Promise<Pod> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tapwire-ipam-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const host = await makeNetns(t, 'twrh');
  const pod = await makeNetns(t, 'twrp');
  return { host, pod, dataDir };
};

const cniEnv = (command: 'ADD' | 'DEL', p: Pod, ifname: string): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  CNI_COMMAND: command,
  CNI_CONTAINERID: `tw-${p.pod.name}`,
  CNI_NETNS: p.pod.path,
  CNI_IFNAME: ifname,
  CNI_PATH: CNI_BIN,
});

/** Runs one reference plugin's ADD inside the host netns; DEL (which frees the lease) on teardown. */
const cniAdd = async (t: ExecutionContext, p: Pod, ifname: string, conf: Record<string, unknown>): Promise<void> => {
  const plugin = `${CNI_BIN}/${String(conf['type'])}`;
  const withIpam = { cniVersion: '1.0.0', ...conf, ipam: { ...(conf['ipam'] as object), dataDir: p.dataDir } };
  const argv = ['nsenter', `--net=${p.host.path}`, plugin];
  const run = (command: 'ADD' | 'DEL') =>
    execa(argv[0] ?? 'nsenter', argv.slice(1), { env: cniEnv(command, p, ifname), extendEnv: false, input: JSON.stringify(withIpam), reject: false });
  t.teardown(async () => {
    const r = await run('DEL');
    if (r.exitCode !== 0) t.log(`DEL ${String(conf['type'])} ${ifname}: ${String(r.stdout)} ${String(r.stderr)}`);
  });
  const r = await run('ADD');
  if (r.exitCode !== 0) throw new Error(`ADD ${String(conf['type'])} ${ifname}: ${String(r.stdout)} ${String(r.stderr)}`);
};

/** v6 undefined: an IPv4-only network. */
const ipam = (v4: string, v6: string | undefined, routes: readonly Record<string, string>[], gateways?: readonly [string, string]) => ({
  type: 'host-local',
  ranges: [
    [{ subnet: `${v4}.0/24`, ...(gateways === undefined ? {} : { gateway: gateways[0] }) }],
    ...(v6 === undefined ? [] : [[{ subnet: `${v6}/64`, ...(gateways === undefined ? {} : { gateway: gateways[1] }) }]]),
  ],
  routes,
});
const DEFAULTS = [{ dst: '0.0.0.0/0' }, { dst: '::/0' }];

const ptp = (name: string, v4: string, v6: string, routes = DEFAULTS) => ({ name, type: 'ptp', ipMasq: false, ipam: ipam(v4, v6, routes) });
const bridge = (name: string, br: string, v4: string, v6: string | undefined, routes = DEFAULTS) => ({
  name,
  type: 'bridge',
  bridge: br,
  isGateway: true,
  ipMasq: false,
  ipam: ipam(v4, v6, routes),
});

/**
 * The link-local address and its fe80::/64 route come a moment after the
 * veth's carrier: a scan before that would see a pod without them.
 */
const settled = async (netns: string, links: readonly string[], v6 = true): Promise<void> => {
  if (!v6) return;
  for (let i = 0; i < 100; i++) {
    const out = await sh(['ip', '-n', netns, '-6', 'addr', 'show', 'scope', 'link']);
    if (links.every((l) => out.includes(`${l}@`) || out.includes(`${l}:`)) && !out.includes('tentative')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** The pod's main-table routes on these links, IPv4 and IPv6, as the guest would print them. */
const podRouting = async (netns: string, links: readonly string[]): Promise<string[]> => {
  const json = await sh(['ip', '-n', netns, '-j', 'route', 'show', 'table', 'all']);
  const routes = decodeRoutes(json);
  if (E.isLeft(routes)) throw new Error(routes.left.problems.join('; '));
  // The decoder keeps no flags; onlink is read from the same JSON, route for route.
  const flags = (JSON.parse(json) as { flags?: string[] }[]).map((r) => r.flags ?? []);
  return routingTable(
    routes.right
      .map((r, i) => {
        const e = routingEntryOf(r);
        return e === undefined ? undefined : { ...e, onlink: flags[i]?.includes('onlink') === true };
      })
      .filter((e) => e !== undefined && e.dev !== undefined && links.includes(e.dev)),
  );
};

const guestRouting = (report: GuestReport | undefined, links: readonly string[]): string[] =>
  routingTable((report?.table ?? []).map((r) => r.entry).filter((e) => e !== undefined && e.dev !== undefined && links.includes(e.dev)));

const appendOf = (argv: readonly string[]): string => argv[argv.indexOf('-append') + 1] ?? '';

/** Launches into the pod, pinging every gateway, and checks the guest's routing is the pod's. */
const launchAndCompare = async (t: ExecutionContext, p: Pod, links: readonly string[], ping: readonly string[], v6 = true) => {
  await settled(p.pod.name, links, v6);
  const ns = netnsHandle(p.pod.name);
  const expected = await podRouting(p.pod.name, links);
  t.log(`pod routing:\n  ${expected.join('\n  ')}`);
  const before = await netnsState(ns)();
  const started = Date.now();
  const r = await launchPod(ns, {
    model: 'tcfilter',
    queues: 1,
    vhost: 'auto',
    ping,
    timeoutMs: BOOT_TIMEOUT_MS,
    accel: 'tcg',
    dryRun: false,
    image: await guestImage(),
  })();
  t.deepEqual(await netnsState(ns)(), before, 'the pod netns is exactly as it was');
  if (E.isLeft(r)) {
    t.fail(describeLaunchError(r.left));
    return undefined;
  }
  const guest = r.right.guest;
  t.log(`launch ${((Date.now() - started) / 1000).toFixed(1)} s; -append (${appendOf(r.right.argv).length} bytes) ${appendOf(r.right.argv)}`);
  t.log(`guest routing (${guest?.routing?.ok === true ? 'checked by the guest' : 'NOT confirmed by the guest'}):\n  ${guestRouting(guest, links).join('\n  ')}`);
  const routingError = guest === undefined ? undefined : guestRoutingError(guest);
  t.is(routingError, undefined, routingError === undefined ? '' : describeGuestRoutingError(routingError));
  t.deepEqual(guestRouting(guest, links), expected, "the guest's ip route / ip -6 route are the pod's");
  t.like(guest?.routing, { ok: true });
  t.deepEqual(
    guest?.pings.map((x) => [x.addr, x._tag]),
    ping.map((a) => [a, 'PingOk']),
  );
  t.deepEqual(guest?.errors, []);
  t.true(r.right.ok);
  return r.right;
};

test.serial('ptp pod (prefix routed through the gateway, no kernel prefix route): the guest has exactly its routing', async (t) => {
  if (!gate(t)) return;
  const p = await makePod(t);
  await cniAdd(t, p, 'eth0', ptp('twptp', '10.71.0', 'fd71::'));
  const r = await launchAndCompare(t, p, ['eth0'], ['10.71.0.1', 'fd71::1']);
  if (r === undefined) return;
  // ptp deletes the kernel's prefix routes: the guest's addresses must not make them.
  t.regex(appendOf(r.argv), /,10\.71\.0\.2\/24\+noprefixroute,fd71::2\/64\+noprefixroute,/);
});

test.serial('bridge pod (kernel prefix routes): the guest has exactly its routing', async (t) => {
  if (!gate(t)) return;
  const p = await makePod(t);
  await cniAdd(t, p, 'eth0', bridge('twbr', 'twrbr0', '10.72.0', 'fd72::'));
  const r = await launchAndCompare(t, p, ['eth0'], ['10.72.0.1', 'fd72::1']);
  if (r === undefined) return;
  t.notRegex(appendOf(r.argv), /noprefixroute/);
});

test.serial('IPv4-only bridge pod with IPv6 off on its link: the guest has no IPv6 route either', async (t) => {
  if (!gate(t)) return;
  const p = await makePod(t);
  await cniAdd(t, p, 'eth0', bridge('twbr4', 'twrbr3', '10.78.0', undefined, [{ dst: '0.0.0.0/0' }]));
  await sh(['ip', 'netns', 'exec', p.pod.name, 'sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=1']);
  const r = await launchAndCompare(t, p, ['eth0'], ['10.78.0.1'], false);
  if (r === undefined) return;
  t.regex(appendOf(r.argv), /,name=eth0,linklocal=off /);
  t.false(r.guest?.table.some((e) => e.family === 6 && e.entry?.dev === 'eth0'));
});

test.serial('macvlan pod: the guest has exactly its routing', async (t) => {
  if (!gate(t)) return;
  const p = await makePod(t);
  // The macvlan's master lives in the host netns; its wire leads to a
  // router netns that holds the gateway addresses.
  const router = await makeNetns(t, 'twrr');
  await sh(['ip', '-n', p.host.name, '-batch', '-'], `link add m0 type veth peer name m1 netns ${router.name}\nlink set m0 up\n`);
  await sh(['ip', '-n', router.name, '-batch', '-'], 'addr add 10.73.0.1/24 dev m1\naddr add fd73::1/64 dev m1 nodad\nlink set m1 up\n');
  await cniAdd(t, p, 'eth0', { name: 'twmv', type: 'macvlan', master: 'm0', mode: 'bridge', ipam: ipam('10.73.0', 'fd73::', DEFAULTS, ['10.73.0.1', 'fd73::1']) });
  await launchAndCompare(t, p, ['eth0'], ['10.73.0.1', 'fd73::1']);
});

test.serial('pod on two networks (ptp + bridge), two default routes of each family with metrics: the guest has exactly its routing', async (t) => {
  if (!gate(t)) return;
  const p = await makePod(t);
  await cniAdd(t, p, 'eth0', ptp('twnet1', '10.74.0', 'fd74::'));
  await cniAdd(t, p, 'net1', bridge('twnet2', 'twrbr1', '10.75.0', 'fd75::', [{ dst: '10.175.0.0/16' }, { dst: 'fd99::/48' }]));
  // What a runtime adds for a second network's defaults: a worse metric.
  await sh(['ip', '-n', p.pod.name, '-batch', '-'], [
    'route add default via 10.75.0.1 dev net1 metric 100',
    'route add 10.176.0.0/16 via 10.75.0.1 dev net1 metric 50 src 10.75.0.2',
    'route add ::/0 via fd75::1 dev net1 metric 2048',
    // A gateway on no prefix of its link: the scan keeps no flags, onlink is inferred.
    'route add 10.177.0.0/16 via 10.77.0.1 dev net1 onlink',
  ].join('\n') + '\n');
  const r = await launchAndCompare(t, p, ['eth0', 'net1'], ['10.74.0.1', 'fd74::1', '10.75.0.1', 'fd75::1']);
  if (r === undefined) return;
  const append = appendOf(r.argv);
  t.regex(append, /,10\.74\.0\.2\/24\+noprefixroute,/, 'the ptp link: no kernel prefix route');
  t.regex(append, /,10\.75\.0\.2\/24,/, 'the bridge link: its kernel prefix route');
});

/**
 * A route the guest cannot add: its preferred source is an address on the
 * pod's loopback (a service VIP), which the guest does not get. Its pings
 * pass; launch must still fail, naming the route. A route in another table
 * is not replayed (launch notes it).
 */
test.serial('a pod route the guest cannot add is a GuestRoutingFailed naming it, though the pings pass', async (t) => {
  if (!gate(t)) return;
  const p = await makePod(t);
  await cniAdd(t, p, 'eth0', bridge('twbr', 'twrbr2', '10.76.0', 'fd76::'));
  await sh(['ip', '-n', p.pod.name, '-batch', '-'], [
    'addr add 10.197.0.9/32 dev lo',
    'route add 10.199.0.0/16 via 10.76.0.1 dev eth0 src 10.197.0.9',
    'route add 10.198.0.0/16 via 10.76.0.1 dev eth0 table 100',
  ].join('\n') + '\n');
  await settled(p.pod.name, ['eth0']);
  const ns = netnsHandle(p.pod.name);
  const before = await netnsState(ns)();
  const consoleText: string[] = [];
  const r = await launchPod(ns, {
    model: 'tcfilter',
    queues: 1,
    vhost: 'auto',
    ping: ['10.76.0.1'],
    timeoutMs: BOOT_TIMEOUT_MS,
    accel: 'tcg',
    dryRun: false,
    image: await guestImage(),
    onConsole: (c) => consoleText.push(c),
  })();
  t.deepEqual(await netnsState(ns)(), before, 'the pod netns is exactly as it was');
  if (E.isRight(r)) return t.fail(`launch succeeded: ${JSON.stringify(r.right.guest)}`);
  t.log(describeLaunchError(r.left));
  t.like(r.left, { _tag: 'GuestRoutingFailed', problems: [{ route: 'IPv4 10.199.0.0/16 via 10.76.0.1 dev eth0 src 10.197.0.9 metric 0 scope global', problem: 'not-added' }] });
  t.regex(describeLaunchError(r.left), /route IPv4 10\.199\.0\.0\/16 via 10\.76\.0\.1 dev eth0 src 10\.197\.0\.9 .*could not be added \(.+\)/);
  const text = consoleText.join('');
  t.regex(text, /TAPWIRE-PING 10\.76\.0\.1 ok /, 'the pings passed all the same');
  t.regex(text, /TAPWIRE-ROUTING ok routes=/, "every other route is the pod's");
});
