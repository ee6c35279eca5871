// Rendered arguments against the real qemu-system-x86_64 (7.2 here), paused
// with -S so no guest runs. Every path we render lives in a directory whose
// name holds a comma, so QEMU itself proves the escaping.
//
// Queue fds are real: a macvtap's character device gives one queue per open(),
// opened by @tapwire/sys as the launcher does (see testing/macvtap-queues.ts).
// QEMU's -netdev tap treats tap and macvtap fds alike, so this also covers
// kind 'tap'. QMP is the launcher's client too (see testing/qemu-qmp.ts). This
// machine has no /dev/vhost-net and no VFIO, so for vhost fds and vfio-pci the
// proof is QEMU's own error naming the step after parsing: it used our fd as a
// vhost fd, it looked up our BDF on the host.
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { inNetnsArgv } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';
import { renderQemuArgv } from './argv.js';
import { describeArgsError, type ArgsError } from './errors.js';
import { assignFdPositions } from './fds.js';
import type { Nic } from './nic.js';
import type { MachineSpec } from './render-machine.js';
import { renderNicArgs } from './render-nic.js';
import { requireKernelIn } from './testing/kernel.js';
import { makeMacvtapQueues } from './testing/macvtap-queues.js';
import { startQemu, waitForExit } from './testing/qemu-process.js';
import { connectTestQmp, type TestQmp } from './testing/qemu-qmp.js';
import { makeCommaDir } from './testing/scratch-dir.js';
import { listenVhostUser, REQ } from './testing/vhost-user-backend.js';

const QEMU = 'qemu-system-x86_64';
const START_MS = 60_000;
/** A bare paused machine for checks that fail before a kernel would matter. */
const BARE = ['-machine', 'q35', '-accel', 'tcg', '-nodefaults', '-no-user-config', '-display', 'none', '-S'];

const right = <A>(r: E.Either<ArgsError, A>): A => {
  if (E.isLeft(r)) throw new Error(describeArgsError(r.left));
  return r.right;
};

const machine = (dir: string, k: { kernel: string; initrd: string | undefined }): Omit<MachineSpec, 'needsSharedMemory'> => ({
  accel: 'tcg',
  memMiB: 256,
  cpus: 1,
  kernel: k.kernel,
  initrd: k.initrd,
  append: 'console=ttyS0 tapwire.test=a,b',
  qmpSocket: join(dir, 'qmp,0.sock'),
  serialLog: join(dir, 'serial,0.log'),
});

const hmp = async (qmp: TestQmp, line: string): Promise<string> => String(await qmp.execute('human-monitor-command', { 'command-line': line }));
const qomGet = (qmp: TestQmp, path: string, property: string): Promise<unknown> => qmp.execute('qom-get', { path, property });
const anonDevice = (i: number): string => `/machine/peripheral-anon/device[${i}]`;

const devNullFds = (t: ExecutionContext, n: number): number[] => {
  const fds = Array.from({ length: n }, () => openSync('/dev/null', 'r+'));
  t.teardown(() => fds.forEach((fd) => closeSync(fd)));
  return fds;
};

const quit = async (t: ExecutionContext, qmp: TestQmp, q: ReturnType<typeof startQemu>): Promise<void> => {
  await qmp.execute('quit');
  qmp.close();
  t.deepEqual(await waitForExit(q, 10_000), { code: 0, signal: null });
};

test('one-queue macvtap, MTU 9000: QEMU runs the full argv, uses fd=3 as the queue and advertises host_mtu', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, QEMU)) return;
  const dir = makeCommaDir(t);
  const kernel = requireKernelIn(t, dir);
  if (kernel === undefined) return;
  const ns = await makeNetns(t);
  const [pos] = right(assignFdPositions([{ queues: 1, vhost: false }]));
  if (pos === undefined) return t.fail();
  const mvt = await makeMacvtapQueues(t, { netns: ns.name, queues: 1, mtu: 9000 });
  const m = machine(dir, kernel);
  const args = right(
    renderQemuArgv({
      machine: m,
      nics: [{ kind: 'macvtap', id: 'net0', mac: '52:54:00:00:00:01', mtu: 9000, queueFds: pos.queueFds, vhostFds: pos.vhostFds }],
    }),
  );
  t.true(args.includes('tap,id=net0,fd=3,vhost=off'));
  // Like the launcher: QEMU runs inside the pod netns via nsenter, the fds ride along.
  const q = startQemu(t, inNetnsArgv(mvt.ns, [QEMU, ...args, '-S']), mvt.fds);
  const qmp = await connectTestQmp(m.qmpSocket, q, START_MS);
  const net = await hmp(qmp, 'info network');
  t.log(net.trim());
  t.regex(net, /macaddr=52:54:00:00:00:01/);
  t.regex(net, /\\ net0: index=0,type=tap,fd=3\b/);
  t.is(await qomGet(qmp, anonDevice(0), 'host_mtu'), 9000);
  t.is(await qomGet(qmp, anonDevice(0), 'mq'), false);
  t.is(await qomGet(qmp, anonDevice(0), 'romfile'), '');
  t.true(existsSync(m.serialLog), 'the serial log was created at the comma path');
  // -kernel/-initrd/-append are plain strings to QEMU: the commas arrive undoubled.
  t.is(await qomGet(qmp, '/machine', 'kernel'), m.kernel);
  t.is(await qomGet(qmp, '/machine', 'initrd'), m.initrd);
  t.is(await qomGet(qmp, '/machine', 'append'), m.append);
  await quit(t, qmp, q);
});

test('two-queue macvtap next to a four-queue vhost-user NIC under TCG: fds=3:4, mq on both, MSI-X with 6 vectors and INTx (vectors=0), shared memfd RAM', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, QEMU)) return;
  const dir = makeCommaDir(t);
  const kernel = requireKernelIn(t, dir);
  if (kernel === undefined) return;
  const ns = await makeNetns(t);
  const [tapPos, vuPos] = right(assignFdPositions([{ queues: 2, vhost: false }, { queues: 0, vhost: false }]));
  if (tapPos === undefined || vuPos === undefined) return t.fail();
  t.deepEqual(vuPos, { queueFds: [], vhostFds: [] });
  const mvt = await makeMacvtapQueues(t, { netns: ns.name, queues: 2, mtu: 1500 });
  const socket = join(dir, 'vu,1.sock');
  const backend = await listenVhostUser(t, socket, 8);
  const m = machine(dir, kernel);
  const nics: Nic[] = [
    { kind: 'macvtap', id: 'net0', mac: '52:54:00:00:00:01', mtu: 1500, queueFds: tapPos.queueFds, vhostFds: [] },
    { kind: 'vhost-user', id: 'vu1', mac: '52:54:00:00:00:02', socket, queues: 4 },
  ];
  const args = right(renderQemuArgv({ machine: m, nics }));
  const q = startQemu(t, [QEMU, ...args, '-S'], mvt.fds);
  const qmp = await connectTestQmp(m.qmpSocket, q, START_MS);
  const net = await hmp(qmp, 'info network');
  t.log(net.trim());
  t.regex(net, /\\ net0: index=0,type=tap,fd=3\b/);
  t.regex(net, /\\ net0: index=1,type=tap,fd=4\b/);
  for (let i = 0; i < 4; i += 1) t.regex(net, new RegExp(`\\\\ vu1: index=${i},type=vhost-user`));
  t.is(await qomGet(qmp, anonDevice(0), 'mq'), true);
  t.is(await qomGet(qmp, anonDevice(0), 'vectors'), 6);
  t.is(await qomGet(qmp, anonDevice(1), 'mq'), true);
  // Under TCG a vhost backend gets no MSI-X (see interruptsFor).
  t.is(await qomGet(qmp, anonDevice(1), 'vectors'), 0);
  t.is(await qomGet(qmp, '/objects/mem', 'share'), true);
  t.is(await qomGet(qmp, '/objects/mem', 'size'), 256 * 1024 * 1024);
  // QEMU 7.2 sets up one vhost device per queue pair (each asks for the
  // protocol features) and gives each of the 8 virtqueues a call fd.
  t.is(backend.requests.filter((r) => r === REQ.GET_PROTOCOL_FEATURES).length, 4);
  t.is(backend.requests.filter((r) => r === REQ.SET_VRING_CALL).length, 8);
  await quit(t, qmp, q);
});

test('one-queue vhost-user: QEMU connects to the socket at its comma path and realizes the NIC without mq', async (t) => {
  if (!requireCommand(t, QEMU)) return;
  const dir = makeCommaDir(t);
  const kernel = requireKernelIn(t, dir);
  if (kernel === undefined) return;
  const socket = join(dir, 'vu,0.sock');
  const backend = await listenVhostUser(t, socket, 1);
  const m = machine(dir, kernel);
  const args = right(renderQemuArgv({ machine: m, nics: [{ kind: 'vhost-user', id: 'vu0', mac: '52:54:00:00:00:03', socket, queues: 1 }] }));
  t.true(args.includes(`socket,id=chr-vu0,path=${socket.replaceAll(',', ',,')}`));
  const q = startQemu(t, [QEMU, ...args, '-S']);
  const qmp = await connectTestQmp(m.qmpSocket, q, START_MS);
  const net = await hmp(qmp, 'info network');
  t.log(net.trim());
  t.regex(net, /macaddr=52:54:00:00:00:03/);
  t.regex(net, /\\ vu0: index=0,type=vhost-user/);
  t.notRegex(net, /vu0: index=1/);
  t.is(await qomGet(qmp, anonDevice(0), 'mq'), false);
  t.is(await qomGet(qmp, anonDevice(0), 'vectors'), 0, 'INTx under TCG');
  t.is(backend.connections(), 1);
  t.is(backend.requests.filter((r) => r === REQ.GET_PROTOCOL_FEATURES).length, 1);
  t.is(backend.requests.filter((r) => r === REQ.SET_VRING_CALL).length, 2);
  await quit(t, qmp, q);
});

for (const queues of [1, 2]) {
  test(`vhost fds with ${queues} queue(s): QEMU takes our fd as the vhost-net fd (and fails on it: no /dev/vhost-net here)`, async (t) => {
    if (!requireRoot(t) || !requireCommand(t, QEMU)) return;
    const ns = await makeNetns(t);
    const [pos] = right(assignFdPositions([{ queues, vhost: true }]));
    if (pos === undefined) return t.fail();
    const mvt = await makeMacvtapQueues(t, { netns: ns.name, queues, mtu: 1500 });
    // /dev/null stands in for /dev/vhost-net: QEMU's VHOST_SET_OWNER on it fails,
    // which only happens after it parsed vhostfd(s)= and picked up the fd.
    const vhost = devNullFds(t, queues);
    const args = right(renderNicArgs([{ kind: 'tap', id: 'net0', mac: '52:54:00:00:00:01', mtu: 1500, queueFds: pos.queueFds, vhostFds: pos.vhostFds }], 'tcg'));
    t.is(args[1], queues === 1 ? 'tap,id=net0,fd=3,vhost=on,vhostfd=4' : 'tap,id=net0,fds=3:4,vhost=on,vhostfds=5:6');
    const q = startQemu(t, [QEMU, ...BARE, ...args], [...mvt.fds, ...vhost]);
    const exit = await waitForExit(q, START_MS);
    t.log(exit, q.stderr().trim());
    t.regex(q.stderr(), /vhost_set_owner failed: Inappropriate ioctl for device/);
    t.regex(q.stderr(), /vhost-net requested but could not be initialized/);
    t.notDeepEqual(exit, { code: 0, signal: null });
  });
}

test('QEMU refuses queues=, vnet_hdr=, ifname=, script= next to fd=/fds=, which is why they are never rendered', async (t) => {
  if (!requireCommand(t, QEMU)) return;
  const fds = devNullFds(t, 2);
  const one = right(renderNicArgs([{ kind: 'tap', id: 'n', mac: '52:54:00:00:00:01', mtu: 1500, queueFds: [3], vhostFds: [] }], 'tcg'));
  const two = right(renderNicArgs([{ kind: 'tap', id: 'n', mac: '52:54:00:00:00:01', mtu: 1500, queueFds: [3, 4], vhostFds: [] }], 'tcg'));
  const cases: [string, string, RegExp][] = [
    [one[1] ?? '', ',queues=1', /are invalid with fd=/],
    [one[1] ?? '', ',vnet_hdr=on', /are invalid with fd=/],
    [one[1] ?? '', ',ifname=x', /are invalid with fd=/],
    [two[1] ?? '', ',queues=2', /are invalid with fds=/],
    [two[1] ?? '', ',script=no', /are invalid with fds=/],
  ];
  for (const [netdev, extra, refusal] of cases) {
    const q = startQemu(t, [QEMU, ...BARE, '-netdev', netdev + extra], fds);
    await waitForExit(q, START_MS);
    t.regex(q.stderr(), refusal, `${netdev}${extra}`);
  }
});

test('vfio-pci: QEMU parses host=BDF and looks that function up on the host (none here, no VFIO)', async (t) => {
  if (!requireCommand(t, QEMU)) return;
  const bdf = '0000:ff:1f.7';
  const args = right(renderNicArgs([{ kind: 'vfio', id: 'pf0', bdf, boundDriver: 'vfio-pci' }], 'tcg'));
  const q = startQemu(t, [QEMU, ...BARE, ...args]);
  const exit = await waitForExit(q, START_MS);
  t.log(q.stderr().trim());
  t.regex(q.stderr(), /-device vfio-pci,host=0000:ff:1f\.7: vfio \/sys\/bus\/pci\/devices\/0000:ff:1f\.7: no such host device/);
  t.is(exit.code, 1);
});

test('48 NICs and the control channel: the 26 that fit stay on pcie.0, 22 get root ports of their own, and QEMU realizes every one of them', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, QEMU)) return;
  const dir = makeCommaDir(t);
  const kernel = requireKernelIn(t, dir);
  if (kernel === undefined) return;
  const ns = await makeNetns(t);
  const count = 48;
  const positions = right(assignFdPositions(Array.from({ length: count }, () => ({ queues: 1, vhost: false }))));
  // One macvtap queue fd per NIC: QEMU takes any tap queue as a one-queue netdev.
  const mvt = await makeMacvtapQueues(t, { netns: ns.name, queues: count, mtu: 1500 });
  const m = { ...machine(dir, kernel), controlSocket: join(dir, 'ctl,0.sock') };
  const nics: Nic[] = positions.map((p, i) => ({
    kind: 'macvtap',
    id: `net${i}`,
    mac: `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`,
    mtu: 1500,
    queueFds: p.queueFds,
    vhostFds: [],
    deviceId: `net${i}`,
  }));
  const args = right(renderQemuArgv({ machine: m, nics }));
  t.is(args.filter((a) => a.startsWith('pcie-root-port,id=nicp')).length, 22);
  const q = startQemu(t, inNetnsArgv(mvt.ns, [QEMU, ...args, '-S']), mvt.fds);
  const qmp = await connectTestQmp(m.qmpSocket, q, START_MS);
  // The device tree: each port's bus holds the NIC placed on it.
  const qtree = await hmp(qmp, 'info qtree');
  const onPort = [...qtree.matchAll(/bus: (nicp\d+)\s+type PCIE\s+dev: virtio-net-pci, id "(net\d+)"/g)].map((r) => [r[1], r[2]]);
  const byPort = (a: (string | undefined)[], b: (string | undefined)[]) => Number((a[0] ?? '').slice(4)) - Number((b[0] ?? '').slice(4));
  t.deepEqual(onPort.sort(byPort), Array.from({ length: 22 }, (_, i) => [`nicp${i}`, `net${26 + i}`]));
  t.is([...qtree.matchAll(/dev: virtio-net-pci, id "net\d+"/g)].length, count, 'the other 26 on pcie.0');
  t.regex(qtree, /dev: virtio-serial-pci, id "tapwire-vser"/);
  await quit(t, qmp, q);
});
