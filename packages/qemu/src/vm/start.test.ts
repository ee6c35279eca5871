// The VM handle for real (TCG): a guest with one NIC started through
// startVm; query-pci shows the NIC at the address the handle reports; the
// guest's console markers arrive as events; the saved NIC state reloads in a
// new process and checks ok, then shows drift once the tap is gone; stop()
// leaves no QEMU and detach leaves the pod netns as it was.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { detach, netnsState, type Attachment } from '@tapwire/netmodel';
import { processAlive, resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { encodeNicState, inheritFds, prepareNics, type NicState } from '@tapwire/vm';
import { describeQemuError } from '../errors.js';
import { buildGuestImage } from '../guest/index.js';
import { qemuArgvFor } from '../session/boot.js';
import { attachStep, guestStep, scanStep } from '../session/steps.js';
import type { VmEvent, VmHandle } from './handle.js';
import { queryPciFunctions } from './query-pci.js';
import { startVm } from './start.js';

const PEER = '10.93.0.1';
const CHILD = fileURLToPath(new URL('./testing/check-state-child.js', import.meta.url));
const run = promisify(execFile);

const gate = (t: ExecutionContext): boolean => requireRoot(t) && requireCommand(t, 'qemu-system-x86_64');

const handle = (name: string): NetnsHandle => {
  const h = resolveNetns(name);
  if (E.isLeft(h)) throw new Error(JSON.stringify(h.left));
  return h.right;
};


/** Pod netns with eth0 (veth) to a peer netns; IPv6 off so no address arrives late. */
const vethPod = async (t: ExecutionContext): Promise<{ pod: NetnsHandle; name: string }> => {
  const pod = await makeNetns(t, 'twvh');
  const peer = await makeNetns(t, 'twvp');
  await sh(['ip', '-n', pod.name, '-batch', '-'], [`link add eth0 type veth peer name p0 netns ${peer.name}`, 'addr add 10.93.0.2/24 dev eth0', 'link set eth0 up', `route add default via ${PEER} dev eth0`].join('\n') + '\n');
  await sh(['ip', '-n', peer.name, '-batch', '-'], `addr add ${PEER}/24 dev p0\nlink set p0 up\n`);
  await sh(['ip', 'netns', 'exec', pod.name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  return { pod: handle(pod.name), name: pod.name };
};

/** The first event `match` accepts, or undefined when the feed ends or time runs out. */
const nextEvent = async (vm: VmHandle, match: (e: VmEvent) => boolean, withinMs: number): Promise<VmEvent | undefined> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), withinMs)));
  const found = (async () => {
    for await (const e of vm.events) if (match(e)) return e;
    return undefined;
  })();
  const r = await Promise.race([found, timeout]);
  clearTimeout(timer);
  return r;
};

const checkInChild = async (statePath: string): Promise<{ ok?: boolean; drift?: { tag: string; text: string }[]; error?: string }> => {
  const r = await run(process.execPath, [CHILD, statePath], { timeout: 60_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '{}' }));
  return JSON.parse(r.stdout) as { ok?: boolean; drift?: { tag: string; text: string }[]; error?: string };
};

test('a VM through its handle: PCI address from query-pci, console markers as events, state reloaded and checked in a new process, stop leaves no QEMU', async (t) => {
  if (!gate(t)) return;
  t.timeout(400_000);
  const image = await buildGuestImage()();
  if (E.isLeft(image)) return t.fail(JSON.stringify(image.left));
  const { pod, name } = await vethPod(t);
  const dir = mkdtempSync(join(tmpdir(), 'tw-vmh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const before = await netnsState(pod)();

  const scanned = await scanStep(pod, {})();
  if (E.isLeft(scanned)) return t.fail(describeQemuError(scanned.left));
  const attached = await attachStep(pod, scanned.right.endpoints, { model: 'tcfilter', queues: 1, dryRun: false })();
  if (E.isLeft(attached)) return t.fail(describeQemuError(attached.left));
  const attachments: readonly Attachment[] = attached.right;
  let vm: VmHandle | undefined;
  t.teardown(async () => {
    if (vm !== undefined) await vm.stop(0)();
    for (const a of attachments) await detach(pod, a)();
  });

  const prepared = await prepareNics(pod, scanned.right.endpoints, attachments, { vhost: false })();
  if (E.isLeft(prepared)) return t.fail(JSON.stringify(prepared.left));
  const p = prepared.right;
  t.is(p.nics.length, 1);
  t.like(p.nics[0], { id: 'net0', link: 'eth0', backend: { kind: 'tap', device: attachments[0]?.tapName, vnetHdr: true } });
  t.true(p.nics[0]?.backend.kind === 'tap' && p.nics[0].backend.ifindex > 0, 'prepareNics read the tap\'s ifindex');
  const guest = guestStep(scanned.right, p.nics, [PEER], { stay: true });
  if (E.isLeft(guest)) return t.fail(describeQemuError(guest.left));
  const qmpSocket = join(dir, 'qmp.sock');
  const argv = qemuArgvFor(
    { accel: 'tcg', memMiB: 256, cpus: 1, kernel: image.right.kernelElf ?? image.right.kernel, initrd: image.right.initrd, append: guest.right.append, qmpSocket, serialLog: join(dir, 'serial.log') },
    p,
  );
  if (E.isLeft(argv)) return t.fail(describeQemuError(argv.left));

  const started = Date.now();
  const r = await startVm({ ns: pod, argv: argv.right, qmpSocket, inherited: inheritFds(p.fds).inherited, nics: p.nics, onSpawned: p.close, readyWithinMs: 30_000 })();
  p.close();
  if (E.isLeft(r)) return t.fail(describeQemuError(r.left));
  vm = r.right;
  t.log(`startVm: QMP ready and query-pci read in ${Date.now() - started} ms`);
  t.true(processAlive(vm.pid));

  const nic = vm.nics.get('net0');
  t.regex(nic?.pciAddress ?? '', /^0000:00:[0-9a-f]{2}\.0$/, 'the handle knows the NIC\'s PCI address');
  const pci = await queryPciFunctions(vm.qmp)();
  if (E.isLeft(pci)) return t.fail(describeQemuError(pci.left));
  const fn = pci.right.find((f) => f.deviceId === 'net0');
  t.like(fn, { address: nic?.pciAddress, vendor: 0x1af4 }, 'query-pci lists the virtio-net device at that address');

  const netUp = await nextEvent(vm, (e) => e.kind === 'console' && e.marker === 'TAPWIRE-NET-UP', 300_000);
  t.truthy(netUp, 'the guest\'s NET-UP marker arrived as an event');
  t.log(`guest NET-UP ${Date.now() - started} ms after start`);
  const done = await nextEvent(vm, (e) => e.kind === 'console' && e.marker === 'TAPWIRE-DONE', 120_000);
  t.truthy(done, 'the DONE marker too');
  t.true(vm.events.history().some((e) => e.kind === 'console' && e.marker === 'TAPWIRE-PING' && /ok|recv=[1-9]/.test(e.line)), vm.events.history().map((e) => (e.kind === 'console' ? e.line : e.kind)).join('\n'));

  // A runtime restart: state saved, this process lets go of QMP, a new process reloads and checks.
  const state: NicState = { version: 1, netns: name, attachments, nics: vm.nics.list(), vm: { pid: vm.pid, qmpSocket, vmm: 'qemu' } };
  const statePath = join(dir, 'state.json');
  writeFileSync(statePath, encodeNicState(state));
  vm.qmp.close();
  const ok = await checkInChild(statePath);
  t.deepEqual(ok, { ok: true, drift: [] }, 'the reloaded state matches the netns and query-pci');

  // The tap goes away under the running VM: the check says so by name.
  const tap = attachments[0]?.tapName ?? '';
  await sh(['ip', '-n', name, 'link', 'del', tap]);
  const drifted = await checkInChild(statePath);
  t.false(drifted.ok);
  t.deepEqual(new Set(drifted.drift?.map((d) => d.tag)), new Set(['AttachmentDrift', 'DeviceGone']), JSON.stringify(drifted));
  t.true(drifted.drift?.some((d) => d.text.includes(tap)), JSON.stringify(drifted));

  // QMP is closed (the old runtime let go): stop falls back to SIGKILL after the grace.
  const exit = await vm.stop(1_000)();
  t.true(E.isRight(exit));
  t.false(processAlive(vm.pid), 'no QEMU left');
  t.true(vm.events.ended());
  vm = undefined;
  for (const a of attachments) {
    const d = await detach(pod, a)();
    t.true(E.isRight(d), E.isLeft(d) ? JSON.stringify(d.left) : '');
  }
  t.deepEqual(await netnsState(pod)(), before, 'the pod netns is as it was');
});

test('stop() asks QEMU to quit over QMP and resolves once it is gone', async (t) => {
  if (!gate(t)) return;
  const ns = await makeNetns(t, 'twvq');
  const dir = mkdtempSync(join(tmpdir(), 'tw-vmq-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const qmpSocket = join(dir, 'qmp.sock');
  // No machine at all: QMP and the stop path are what is tested, not a guest.
  const argv = ['qemu-system-x86_64', '-machine', 'none', '-nodefaults', '-display', 'none', '-serial', 'stdio', '-chardev', `socket,id=qmp,path=${qmpSocket},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control'];
  const r = await startVm({ ns: handle(ns.name), argv, qmpSocket, readyWithinMs: 30_000 })();
  if (E.isLeft(r)) return t.fail(describeQemuError(r.left));
  const vm = r.right;
  t.teardown(async () => {
    await vm.stop(0)();
  });
  t.deepEqual(vm.nics.list(), []);
  const exit = await vm.stop(10_000)();
  if (E.isLeft(exit)) return t.fail(describeQemuError(exit.left));
  t.is(exit.right.stoppedBy, 'quit');
  t.is(exit.right.exitCode, 0);
  t.false(processAlive(vm.pid));
  t.true(vm.events.history().some((e) => e.kind === 'qmp' && e.event.event === 'SHUTDOWN'), 'QMP events arrive on the event feed (SHUTDOWN, before the exit)');
  t.is(vm.events.history().at(-1)?.kind, 'exit');
});
