// NIC hotplug and unplug latency on a running TCG guest, next to the same NIC
// (one tcfilter queue on a veth) cold-plugged at boot by launchPod.
//   hot plug:   first getfd sent -> device_add answered (QEMU side)
//               first getfd sent -> TAPWIRE-APPLIED (the guest saw the NIC,
//               configured its address and reported it up)
//   hot unplug: device_del sent -> DEVICE_DELETED (the guest released it), and
//               the whole hotDetach (+ the guest confirming it gone + netns detach)
//   cold:       the guest's own clock from init's START to NET-UP (module load,
//               probe, address, carrier), and QEMU spawn -> NET-UP on the host.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import {
  buildGuestImage,
  describeHotAttachError,
  describeLaunchError,
  describeQemuError,
  hotAttach,
  hotDetach,
  hotVmOf,
  launchPod,
  renderGuestCmdline,
  renderMachineArgs,
  startVm,
  type GuestImage,
  type HotVmOf,
  type Qmp,
} from '@tapwire/qemu';
import { describeSysError } from '@tapwire/sys';
import { track } from './cleanup.js';
import { makePod, type Pod } from './pod.js';
import { median, round } from './stats.js';

export interface HotplugResult {
  readonly runs: number;
  /** Medians, ms. */
  readonly hot: { readonly getfdToDeviceAddMs: number; readonly getfdToGuestUpMs: number; readonly hotAttachMs: number; readonly deviceDelToDeletedMs: number; readonly hotDetachMs: number };
  readonly cold: { readonly guestStartToNetUpMs: number; readonly spawnToNetUpMs: number } | undefined;
  readonly coldError: string | undefined;
}

const BOOT_MS = 240_000;

/** Times QMP traffic as it goes by: when a command was sent, when it was answered. */
const timedQmp = (qmp: Qmp, marks: Map<string, number>): Qmp => ({
  ...qmp,
  execute: async (command, args, o) => {
    marks.set(`${command}:sent`, marks.get(`${command}:sent`) ?? performance.now());
    const r = await qmp.execute(command, args, o);
    marks.set(`${command}:done`, performance.now());
    return r;
  },
  executeWithFds: async (command, args, fds, o) => {
    if (!marks.has('getfd:first')) marks.set('getfd:first', performance.now());
    return qmp.executeWithFds(command, args, fds, o);
  },
});

const bootHotVm = async (pod: Pod, image: GuestImage, dir: string): Promise<{ hot: HotVmOf; stop: () => Promise<void> }> => {
  const append = renderGuestCmdline({ nics: [], control: true, stay: true, waitSeconds: 20 });
  if (E.isLeft(append)) throw new Error('guest command line');
  const qmpSocket = join(dir, 'qmp.sock');
  const controlSocket = join(dir, 'control.sock');
  const machine = renderMachineArgs({
    accel: 'tcg',
    memMiB: 256,
    cpus: 1,
    kernel: image.kernelElf ?? image.kernel,
    initrd: image.initrd,
    append: append.right,
    qmpSocket,
    serialLog: join(dir, 'serial.log'),
    needsSharedMemory: false,
    hotplugPorts: 2,
    controlSocket,
  });
  if (E.isLeft(machine)) throw new Error('machine args');
  const handle = await startVm({ ns: pod.ns, argv: ['qemu-system-x86_64', ...machine.right], qmpSocket, readyWithinMs: 60_000 })();
  if (E.isLeft(handle)) throw new Error(`startVm: ${describeQemuError(handle.left)}`);
  const stopVm = track(`hotplug bench VM in ${pod.name}`, async () => {
    await handle.right.stop(5_000)();
  });
  const hot = await hotVmOf(handle.right, controlSocket, 'tcg', 30_000)();
  if (E.isLeft(hot)) {
    await stopVm();
    throw new Error('guest control channel');
  }
  const up = await hot.right.watch.waitFor((e) => e._tag === 'Control', 0, BOOT_MS);
  if (up === undefined) {
    await stopVm();
    throw new Error('the guest never opened its control channel');
  }
  return {
    hot: hot.right,
    stop: async () => {
      hot.right.close();
      await stopVm();
    },
  };
};

const hotRuns = async (pod: Pod, image: GuestImage, runs: number, progress: (l: string) => void): Promise<HotplugResult['hot']> => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-bench-hot-'));
  const vm = await bootHotVm(pod, image, dir);
  const rows: { a: number; b: number; c: number; d: number; e: number }[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const marks = new Map<string, number>();
      const hot = { ...vm.hot, qmp: timedQmp(vm.hot.qmp, marks) };
      const t0 = performance.now();
      const a = await hotAttach(hot, pod.ns, 'eth0', { nicId: `bench${i}`, model: 'tcfilter', queues: 1 })();
      const t1 = performance.now();
      if (E.isLeft(a)) throw new Error(`hotAttach: ${describeHotAttachError(a.left)}`);
      const first = marks.get('getfd:first') ?? t0;
      const deviceAdd = (marks.get('device_add:done') ?? t1) - first;
      const guestUp = t1 - first;
      const eventsBefore = vm.hot.qmp.events().length;
      const t2 = performance.now();
      const d = await hotDetach(hot, pod.ns, a.right)();
      const t3 = performance.now();
      if (E.isLeft(d)) throw new Error(`hotDetach: ${describeHotAttachError(d.left)}`);
      const deleted = vm.hot.qmp.events().slice(eventsBefore).find((e) => e.event === 'DEVICE_DELETED' && (e.data as { device?: string } | undefined)?.device === `bench${i}`);
      const delSent = marks.get('device_del:sent') ?? t2;
      const delAt = deleted === undefined ? t3 : deleted.timestamp.seconds * 1000 + deleted.timestamp.microseconds / 1000 - (Date.now() - performance.now());
      rows.push({ a: deviceAdd, b: guestUp, c: t1 - t0, d: Math.max(0, delAt - delSent), e: t3 - t2 });
      progress(`hotplug: run ${i + 1}/${runs}: getfd->guest up ${Math.round(guestUp)} ms, unplug ${Math.round(t3 - t2)} ms`);
    }
  } finally {
    await vm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const m = (k: 'a' | 'b' | 'c' | 'd' | 'e'): number => round(median(rows.map((r) => r[k])));
  return { getfdToDeviceAddMs: m('a'), getfdToGuestUpMs: m('b'), hotAttachMs: m('c'), deviceDelToDeletedMs: m('d'), hotDetachMs: m('e') };
};

const uptimeOf = (console: string, marker: string): number | undefined => {
  const line = console.split('\n').find((l) => l.includes(marker));
  const m = line === undefined ? null : /uptime=([0-9.]+)/.exec(line);
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

const coldRun = async (pod: Pod, image: GuestImage): Promise<{ guestStartToNetUpMs: number; spawnToNetUpMs: number }> => {
  let seen = '';
  let spawnAt: number | undefined;
  let netUpAt: number | undefined;
  const r = await launchPod(pod.ns, {
    model: 'tcfilter',
    queues: 1,
    vhost: 'off',
    ping: [],
    timeoutMs: 180_000,
    accel: 'tcg',
    dryRun: false,
    image,
    onConsole: (chunk) => {
      seen += chunk;
      if (netUpAt === undefined && seen.includes('TAPWIRE-NET-UP')) netUpAt = performance.now();
    },
    onStage: (e) => {
      if (e.stage === 'boot' && e.status === 'start') spawnAt ??= performance.now();
    },
  })();
  if (E.isLeft(r)) throw new Error(`launchPod: ${describeLaunchError(r.left)}`);
  const start = uptimeOf(seen, 'TAPWIRE-START');
  const up = uptimeOf(seen, 'TAPWIRE-NET-UP');
  if (start === undefined || up === undefined || netUpAt === undefined || spawnAt === undefined) throw new Error('cold boot: no START/NET-UP');
  return { guestStartToNetUpMs: round((up - start) * 1000), spawnToNetUpMs: round(netUpAt - spawnAt) };
};

export const runHotplugBench = async (o: { readonly runs: number; readonly progress?: (line: string) => void }): Promise<HotplugResult> => {
  const progress = o.progress ?? (() => undefined);
  const image = await buildGuestImage()();
  if (E.isLeft(image)) throw new Error(`guest image: ${describeSysError(image.left)}`);
  const pod = await makePod(1);
  try {
    const hot = await hotRuns(pod, image.right, o.runs, progress);
    let cold: HotplugResult['cold'];
    let coldError: string | undefined;
    try {
      cold = await coldRun(pod, image.right);
    } catch (e) {
      coldError = e instanceof Error ? e.message : String(e);
    }
    progress('hotplug: done');
    return { runs: o.runs, hot, cold, coldError };
  } finally {
    await pod.dispose();
  }
};

export const renderHotplugSection = (r: HotplugResult | { readonly skipped: string } | undefined): string => {
  if (r === undefined || 'skipped' in r) return ['## NIC hotplug and unplug', '', `Skipped: ${r?.skipped ?? 'not run'}.`].join('\n');
  const cold = r.cold;
  return [
    '## NIC hotplug and unplug (TCG, one tcfilter queue on a veth)',
    '',
    `Medians of ${r.runs} plug/unplug cycle(s) on one running guest, next to the same NIC cold-plugged at boot (one launchPod run).`,
    '',
    '| | ms |',
    '|---|---:|',
    `| hot: first getfd -> device_add answered | ${r.hot.getfdToDeviceAddMs} |`,
    `| hot: first getfd -> the guest reports the NIC up and configured | ${r.hot.getfdToGuestUpMs} |`,
    `| hot: whole hotAttach (scan, attach, fds, plug, guest) | ${r.hot.hotAttachMs} |`,
    `| unplug: device_del -> DEVICE_DELETED | ${r.hot.deviceDelToDeletedMs} |`,
    `| unplug: whole hotDetach (unplug, guest confirms gone, detach) | ${r.hot.hotDetachMs} |`,
    cold === undefined ? `| cold: failed: ${r.coldError ?? '?'} | |` : `| cold: guest init START -> NET-UP (guest clock) | ${cold.guestStartToNetUpMs} |`,
    ...(cold === undefined ? [] : [`| cold: QEMU spawned -> NET-UP (whole boot) | ${cold.spawnToNetUpMs} |`]),
  ].join('\n');
};
