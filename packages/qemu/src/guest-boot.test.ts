// The guest image for real: a pod netns A whose veth leads to a peer netns B,
// a tap in A wired to the veth with tc mirred both ways (the tcfilter model),
// the veth's MAC and addresses moved into the guest through the kernel
// command line, QEMU (TCG) booted inside A. The guest must ping B, directly
// and through a route, over IPv4 and IPv6.
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { describeSysError, inNetnsArgv, runBatch, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';
import {
  buildGuestImage,
  describeConsoleParseError,
  describeGuestCmdlineError,
  parseConsole,
  renderGuestCmdline,
  summarizeGuest,
  type GuestImage,
  type GuestReport,
} from './guest/index.js';

const POD_MAC = '02:77:00:00:00:02';
const POD_V4 = '10.77.0.2/24';
const POD_V6 = 'fd77::2/64';
const PEER_V4 = '10.77.0.1';
const PEER_V6 = 'fd77::1';
/** On B's loopback: reachable from the guest only through its default routes. */
const FAR_V4 = '10.78.0.1';
const FAR_V6 = 'fd78::1';
const MTU = 1400;
const BOOT_TIMEOUT_MS = 120_000;

const must = async <A>(what: string, te: () => Promise<E.Either<Parameters<typeof describeSysError>[0], A>>): Promise<A> => {
  const r = await te();
  if (E.isLeft(r)) throw new Error(`${what}: ${describeSysError(r.left)}`);
  return r.right;
};

/**
 * Built from stat rather than resolveNetns, which refuses `ip netns add`
 * mounts today (it expects readlink of the fd to say net:[ino]; for a bind
 * mount it says the path).
 */
const handle = (ns: { readonly name: string; readonly path: string }): NetnsHandle => ({ spec: ns.name, path: ns.path, inode: statSync(ns.path).ino });

/**
 * A (pod): veth vA (MTU 1400, the pod's MAC) whose addresses were taken away
 * for the guest, tap tw0, mirred vA <-> tw0. B (peer): vB with the pod
 * subnet's other end, plus far addresses on lo.
 */
const wirePod = async (t: ExecutionContext, multiQueue: boolean): Promise<NetnsHandle> => {
  const a = await makeNetns(t, 'twga');
  const b = await makeNetns(t, 'twgb');
  const nsA = handle(a);
  const nsB = handle(b);
  await must('netns A links', runBatch(nsA, 'ip', [
    ['link', 'add', 'vA', 'address', POD_MAC, 'mtu', String(MTU), 'type', 'veth', 'peer', 'name', 'vB', 'mtu', String(MTU), 'netns', b.name],
    // What a CNI plugin would have done; the guest takes these over below.
    ['addr', 'add', POD_V4, 'dev', 'vA'],
    ['addr', 'add', POD_V6, 'dev', 'vA', 'nodad'],
    ['addr', 'flush', 'dev', 'vA'],
    ['tuntap', 'add', 'dev', 'tw0', 'mode', 'tap', 'vnet_hdr', ...(multiQueue ? ['multi_queue'] : [])],
    ['link', 'set', 'tw0', 'mtu', String(MTU), 'up'],
    // The guest owns the pod's link-local address now; A must not claim it too.
    ['link', 'set', 'vA', 'addrgenmode', 'none'],
    ['link', 'set', 'vA', 'up'],
  ]));
  await must('netns B', runBatch(nsB, 'ip', [
    ['addr', 'add', `${PEER_V4}/24`, 'dev', 'vB'],
    ['addr', 'add', `${PEER_V6}/64`, 'dev', 'vB', 'nodad'],
    ['addr', 'add', `${FAR_V4}/32`, 'dev', 'lo'],
    ['addr', 'add', `${FAR_V6}/128`, 'dev', 'lo'],
    ['link', 'set', 'vB', 'up'],
  ]));
  const redirect = (from: string, to: string): string[] =>
    ['filter', 'add', 'dev', from, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u8', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', to];
  await must('netns A tc', runBatch(nsA, 'tc', [
    ['qdisc', 'add', 'dev', 'vA', 'ingress'],
    ['qdisc', 'add', 'dev', 'tw0', 'ingress'],
    redirect('vA', 'tw0'),
    redirect('tw0', 'vA'),
  ]));
  return nsA;
};

interface Boot {
  readonly report: GuestReport;
  readonly console: string;
  /** Host clock from spawning QEMU to the guest's first NET-UP line. */
  readonly netUpSeconds: number | undefined;
  readonly doneSeconds: number | undefined;
}

/** Boots QEMU in ns, collects the console until QEMU exits (the guest powers off) or the timeout. */
const boot = async (t: ExecutionContext, ns: NetnsHandle, image: GuestImage, qemuArgs: readonly string[], cmdline: string): Promise<Boot> => {
  // The PVH ELF boots in about half the time of the bzImage under TCG.
  const kernel = image.kernelElf ?? image.kernel;
  t.log(`kernel ${kernel}`);
  const argv = inNetnsArgv(ns, [
    'qemu-system-x86_64',
    '-machine', 'q35,accel=tcg',
    '-m', '256',
    '-nographic',
    '-no-reboot',
    '-kernel', kernel,
    '-initrd', image.initrd,
    '-append', cmdline,
    ...qemuArgs,
  ]);
  const [file, ...args] = argv;
  const start = performance.now();
  const qemu = execa(file ?? 'nsenter', args, {
    stdin: 'ignore',
    reject: false,
    buffer: false,
    timeout: BOOT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    cleanup: true,
  });
  t.teardown(async () => {
    if (qemu.exitCode === null) qemu.kill('SIGKILL');
    await qemu;
  });
  let text = '';
  let netUpSeconds: number | undefined;
  let doneSeconds: number | undefined;
  qemu.stdout?.setEncoding('utf8');
  qemu.stdout?.on('data', (chunk: string) => {
    text += chunk;
    const now = (performance.now() - start) / 1000;
    if (netUpSeconds === undefined && text.includes('TAPWIRE-NET-UP ')) netUpSeconds = now;
    if (doneSeconds === undefined && text.includes('TAPWIRE-DONE ')) doneSeconds = now;
  });
  let stderr = '';
  qemu.stderr?.setEncoding('utf8');
  qemu.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const r = await qemu;
  if (r.timedOut) t.log(`QEMU killed after ${BOOT_TIMEOUT_MS} ms`);
  if (stderr.trim() !== '') t.log(`QEMU stderr: ${stderr.trim()}`);
  const events = parseConsole(text);
  if (E.isLeft(events)) throw new Error(`${describeConsoleParseError(events.left)}\n${text}`);
  return { report: summarizeGuest(events.right), console: text, netUpSeconds, doneSeconds };
};

const podCmdline = (): string => {
  const line = renderGuestCmdline({
    nics: [{ mac: POD_MAC, addresses: [POD_V4, POD_V6], mtu: MTU, name: 'eth0' }],
    routes: [
      { dst: '0.0.0.0/0', via: PEER_V4 },
      { dst: '::/0', via: PEER_V6 },
    ],
    ping: [PEER_V4, PEER_V6, FAR_V4, FAR_V6],
  });
  if (E.isLeft(line)) throw new Error(describeGuestCmdlineError(line.left));
  return line.right;
};

const prepare = async (t: ExecutionContext): Promise<GuestImage | undefined> => {
  if (!requireRoot(t)) return undefined;
  if (!requireCommand(t, 'qemu-system-x86_64')) return undefined;
  const t0 = performance.now();
  const image = await must('guest image', buildGuestImage());
  t.log(`guest image ready in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return image;
};

const assertPod = (t: ExecutionContext, b: Boot): void => {
  const { report } = b;
  t.true(report.done, 'the guest reported TAPWIRE-DONE');
  t.deepEqual(report.errors, [], 'no TAPWIRE-ERROR');
  t.like(report.nics[0], { ifname: 'eth0', mac: POD_MAC, addresses: [POD_V4, POD_V6], mtu: MTU });
  t.deepEqual(report.routes.map((r) => r._tag), ['RouteOk', 'RouteOk']);
  t.deepEqual(
    report.pings.map((p) => [p.addr, p._tag]),
    [PEER_V4, PEER_V6, FAR_V4, FAR_V6].map((a) => [a, 'PingOk']),
  );
  t.true(report.ok);
  if (!report.ok) t.log(b.console);
};

test.serial('the guest becomes the pod: veth MAC and addresses, pings through tc mirred', async (t) => {
  const image = await prepare(t);
  if (image === undefined) return;
  const ns = await wirePod(t, false);
  const cmdline = podCmdline();
  t.log(`-append ${cmdline}`);
  const b = await boot(t, ns, image, [
    '-netdev', 'tap,id=n0,ifname=tw0,script=no,downscript=no,vhost=off',
    '-device', `virtio-net-pci,netdev=n0,mac=${POD_MAC},romfile=`,
  ], cmdline);
  t.log(`boot to NET-UP ${b.netUpSeconds?.toFixed(1)} s, to DONE ${b.doneSeconds?.toFixed(1)} s (guest uptime at NET-UP ${b.report.nics[0]?.uptime} s)`);
  t.log(b.report.pings.map((p) => (p._tag === 'PingOk' ? `${p.addr} rtt ${p.rttMs} ms` : `${p.addr} FAIL ${p.detail}`)).join('; '));
  assertPod(t, b);
  t.is(b.report.queues['eth0'], 1);
});

test.serial('two vCPUs and a 2-queue tap: the guest sees both queue pairs', async (t) => {
  const image = await prepare(t);
  if (image === undefined) return;
  const ns = await wirePod(t, true);
  const b = await boot(t, ns, image, [
    '-smp', '2',
    '-netdev', 'tap,id=n0,ifname=tw0,script=no,downscript=no,vhost=off,queues=2',
    '-device', `virtio-net-pci,netdev=n0,mac=${POD_MAC},mq=on,vectors=6,romfile=`,
  ], podCmdline());
  t.log(`boot to NET-UP ${b.netUpSeconds?.toFixed(1)} s, to DONE ${b.doneSeconds?.toFixed(1)} s; TAPWIRE-QUEUES eth0 ${b.report.queues['eth0']}`);
  assertPod(t, b);
  t.is(b.report.queues['eth0'], 2);
});
