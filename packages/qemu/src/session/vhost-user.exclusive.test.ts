// vhost-user for real: DPDK testpmd is the backend, the guest's packets go
// through it, and a ping proves it (NET-UP alone proves nothing: without
// share=on RAM the guest reports NET-UP and no packet passes). testpmd
// busy-polls a core, so this file runs alone (*.exclusive.test.ts) and its
// tests one after another.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { netnsState } from '@tapwire/netmodel';
import type { NetnsHandle } from '@tapwire/sys';
import { makeNetns, sh } from '@tapwire/testkit';
import { renderQemuArgv } from '../args/index.js';
import { startQemu, type QemuProcess } from '../args/testing/qemu-process.js';
import { connectTestQmp } from '../args/testing/qemu-qmp.js';
import { startTestpmd, TESTPMD, type Testpmd } from '../args/testing/testpmd.js';
import { renderGuestCmdline } from '../guest/index.js';
import { describeLaunchError } from './errors.js';
import { launchPod } from './launch-pod.js';
import { guestImage, netnsHandle, QEMU, requireGuestBoot } from '../testing/guest-pod.js';

/** TCG guests share two cores with testpmd's polling thread: generous. */
const GUEST_MS = 240_000;
const TESTPMD_READY_MS = 60_000;

const gate = (t: ExecutionContext): boolean => requireGuestBoot(t, TESTPMD);

/** A private --vhost-user-dir, removed on teardown. */
const vhostUserDir = (t: ExecutionContext): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-vu-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** Where the classifier looks for the backend of a link holding `addr` (the backend makes the socket). */
const socketFor = (dir: string, addr: string): string => {
  mkdirSync(join(dir, `vhostuser_${addr}`), { recursive: true });
  return join(dir, `vhostuser_${addr}`, 'vhu.sock');
};

/**
 * A pod whose eth0 holds `addr` and whose backend is a vhost-user socket (as
 * a userspace CNI leaves it). The veth's other end stays in the pod, down and
 * without addresses, so eth0 is the only endpoint.
 */
const vhostUserPod = async (t: ExecutionContext, addr: string): Promise<NetnsHandle> => {
  const pod = await makeNetns(t, 'twvp');
  await sh(['ip', '-n', pod.name, '-batch', '-'], `link add eth0 type veth peer name eth0p\naddr add ${addr}/24 dev eth0\nlink set eth0 up\n`);
  return netnsHandle(pod.name);
};

const stopAndCount = async (t: ExecutionContext, pmd: Testpmd): Promise<void> => {
  const end = await pmd.stop();
  t.log(`testpmd ${pmd.prefix}: ${end.killed ? 'SIGKILLed' : `stopped by ${end.signal ?? 'exit'}`}; ${end.stats.map((s) => `port ${s.port} rx=${s.rx} tx=${s.tx}`).join(', ')}`);
  t.false(end.killed, 'testpmd stopped on SIGINT');
  t.true(end.stats.length >= 2 && end.stats.every((s) => s.rx > 0 && s.tx > 0), `packets crossed testpmd both ways:\n${pmd.log().slice(-2000)}`);
};

for (const queues of [1, 2]) {
  test.serial(`guest pings the tap side through testpmd with ${queues} queue(s)`, async (t) => {
    if (!gate(t)) return;
    const dir = vhostUserDir(t);
    const peer = await makeNetns(t, 'twvq');
    const pod = await vhostUserPod(t, '10.91.0.2');
    const pmd = await startTestpmd(t, {
      ns: netnsHandle(peer.name),
      ports: [{ kind: 'vhost', socket: socketFor(dir, '10.91.0.2') }, { kind: 'tap', iface: 'vut0' }],
      queues,
      readyWithinMs: TESTPMD_READY_MS,
    });
    await sh(['ip', '-n', peer.name, '-batch', '-'], 'addr add 10.91.0.1/24 dev vut0\nlink set vut0 up\n');

    const before = await netnsState(pod)();
    const started = Date.now();
    const r = await launchPod(pod, {
      model: 'tcfilter',
      queues,
      vhost: 'auto',
      ping: ['10.91.0.1'],
      timeoutMs: GUEST_MS,
      // Decided at run time, as for a user: KVM where it works, else TCG.
      accel: 'auto',
      dryRun: false,
      image: await guestImage(),
      vhostUserDir: dir,
    })();
    t.deepEqual(await netnsState(pod)(), before, 'the pod netns is exactly as it was');
    if (E.isLeft(r)) return t.fail(describeLaunchError(r.left));
    const res = r.right;
    t.log(`${res.accel ?? '?'}: ${Date.now() - started} ms; ${res.guest?.pings.map((p) => JSON.stringify(p)).join(' ')}`);
    for (const n of res.notes) t.log(`note: ${n}`);

    t.true(res.ok, JSON.stringify(res.guest));
    t.deepEqual(res.guest?.pings.map((p) => p._tag), ['PingOk'], 'the guest reached the tap side');
    t.deepEqual(Object.values(res.guest?.queues ?? {}), [queues], 'the guest enabled every queue pair');
    const argv = res.argv.join(' ');
    t.true(res.argv.includes(`vhost-user,id=net0,chardev=chr-net0${queues > 1 ? `,queues=${queues}` : ''}`), argv);
    t.true(argv.includes('memory-backend-memfd,id=mem,size=256M,share=on'), argv);
    t.is(res.argv[res.argv.indexOf('-smp') + 1], String(queues), 'one vCPU per queue');
    const device = res.argv.find((a) => a.startsWith('virtio-net-pci,netdev=net0')) ?? '';
    if (res.accel === 'tcg') {
      t.regex(device, /,vectors=0(,|$)/, 'INTx under TCG');
      t.true(res.notes.some((n) => n.startsWith('net0: legacy INTx')), res.notes.join('; '));
    } else {
      t.notRegex(device, /vectors=0/, 'MSI-X under KVM');
    }
    await stopAndCount(t, pmd);
  });
}

interface Guest {
  readonly name: string;
  readonly qemu: QemuProcess;
  readonly qmpSocket: string;
}

/** A paused TCG guest on one vhost-user socket that pings `ping` and then stays up. */
const startGuest = async (t: ExecutionContext, dir: string, name: string, o: { socket: string; mac: string; addr: string; ping: string }): Promise<Guest> => {
  const img = await guestImage();
  const append = renderGuestCmdline({ nics: [{ mac: o.mac, addresses: [`${o.addr}/24`], mtu: 1500 }], ping: [o.ping], stay: true });
  if (E.isLeft(append)) throw new Error(JSON.stringify(append.left));
  const qmpSocket = join(dir, `${name}.qmp`);
  const argv = renderQemuArgv({
    machine: {
      accel: 'tcg',
      memMiB: 256,
      cpus: 1,
      kernel: img.kernelElf ?? img.kernel,
      initrd: img.initrd,
      append: append.right,
      qmpSocket,
      serialLog: join(dir, `${name}.log`),
    },
    nics: [{ kind: 'vhost-user', id: 'net0', mac: o.mac, socket: o.socket, queues: 1 }],
  });
  if (E.isLeft(argv)) throw new Error(JSON.stringify(argv.left));
  return { name, qemu: startQemu(t, [QEMU, ...argv.right, '-S']), qmpSocket };
};

const waitForConsole = async (g: Guest, re: RegExp, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms;
  let gone = false;
  void g.qemu.exited.then(() => {
    gone = true;
  });
  while (!re.test(g.qemu.stdout())) {
    if (gone || Date.now() > deadline) return re.test(g.qemu.stdout());
    await new Promise((r) => setTimeout(r, 200));
  }
  return true;
};

/**
 * Two guests, one testpmd with two vhost ports: io forwarding pairs port 0
 * with port 1, so each guest's frames go to the other. Both guests stay up
 * after their pings and are started together (paused, then continued at
 * once), so each is there while the other pings it.
 */
test.serial('two guests ping each other through one testpmd', async (t) => {
  if (!gate(t)) return;
  const dir = vhostUserDir(t);
  const ns = await makeNetns(t, 'twvq');
  const a = { socket: socketFor(dir, '10.92.0.2'), mac: '52:54:00:92:00:02', addr: '10.92.0.2', ping: '10.92.0.3' };
  const b = { socket: socketFor(dir, '10.92.0.3'), mac: '52:54:00:92:00:03', addr: '10.92.0.3', ping: '10.92.0.2' };
  const pmd = await startTestpmd(t, {
    ns: netnsHandle(ns.name),
    ports: [{ kind: 'vhost', socket: a.socket }, { kind: 'vhost', socket: b.socket }],
    queues: 1,
    readyWithinMs: TESTPMD_READY_MS,
  });
  const guests = [await startGuest(t, dir, 'a', a), await startGuest(t, dir, 'b', b)];
  const qmps = await Promise.all(guests.map((g) => connectTestQmp(g.qmpSocket, g.qemu, 60_000)));
  const started = Date.now();
  await Promise.all(qmps.map((q) => q.execute('cont')));
  const done = await Promise.all(guests.map((g) => waitForConsole(g, /TAPWIRE-DONE/, GUEST_MS)));
  t.log(`both guests done in ${Date.now() - started} ms`);
  for (const q of qmps) q.close();
  for (const [i, g] of guests.entries()) {
    const pings = g.qemu.stdout().split('\n').filter((l) => l.startsWith('TAPWIRE-PING'));
    t.log(`guest ${g.name}: ${pings.join(' | ')}`);
    t.true(done[i], `guest ${g.name} finished:\n${g.qemu.stdout().slice(-1500)}\n${g.qemu.stderr()}`);
    t.is(pings.length, 1);
    t.regex(pings[0] ?? '', new RegExp(`^TAPWIRE-PING ${(i === 0 ? a : b).ping.replaceAll('.', '\\.')} ok `), `guest ${g.name} reached the other`);
  }
  for (const g of guests) g.qemu.child.kill('SIGKILL');
  await Promise.all(guests.map((g) => g.qemu.exited));
  await stopAndCount(t, pmd);
});
