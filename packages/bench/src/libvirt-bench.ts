// Guest network-up through a private libvirtd against direct QEMU: the same
// guest image, pod netns, model (tcfilter, 1 queue, vhost off) and ping, in
// alternating order. Both clocks run from the launch call to the guest's
// TAPWIRE-NET-UP line (and to TAPWIRE-DONE, after its ping). A first run on an
// empty capability cache shows what libvirt's QEMU probe costs a fresh daemon.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import { describeLibvirtError, launchViaLibvirt } from '@tapwire/libvirt';
import { buildGuestImage, describeLaunchError, launchPod, type GuestImage } from '@tapwire/qemu';
import { track } from './cleanup.js';
import { makePod, type Pod } from './pod.js';
import { median, round } from './stats.js';

const TIMEOUT_MS = 180_000;

interface SideRun {
  readonly netUpMs: number;
  readonly doneMs: number;
}

interface LibvirtRun extends SideRun {
  readonly daemonMs: number;
  readonly createMs: number;
  readonly teardownMs: number;
}

export interface LibvirtBenchResult {
  readonly runs: number;
  readonly qemu: SideRun;
  readonly libvirt: LibvirtRun;
  /** virsh create on an empty capability cache (libvirt probes QEMU first). */
  readonly coldCreateMs: number;
  readonly warmCreateMs: number;
}

/** Calls back with ms since t0 when the console first shows `marker`. */
const clockOn = (t0: number, marker: string, seen: { text: string; at: Record<string, number> }) => (chunk: string) => {
  seen.text += chunk;
  for (const m of [marker, 'TAPWIRE-DONE']) if (seen.at[m] === undefined && seen.text.includes(m)) seen.at[m] = performance.now() - t0;
};

const qemuRun = async (pod: Pod, image: GuestImage): Promise<SideRun> => {
  const seen = { text: '', at: {} as Record<string, number> };
  const t0 = performance.now();
  const r = await launchPod(pod.ns, {
    model: 'tcfilter', queues: 1, vhost: 'off', ping: pod.gateway === undefined ? [] : [pod.gateway], timeoutMs: TIMEOUT_MS, accel: 'tcg', dryRun: false, image,
    onConsole: clockOn(t0, 'TAPWIRE-NET-UP', seen),
  })();
  if (E.isLeft(r)) throw new Error(`launchPod: ${describeLaunchError(r.left)}`);
  const netUp = seen.at['TAPWIRE-NET-UP'];
  const done = seen.at['TAPWIRE-DONE'];
  if (netUp === undefined || done === undefined) throw new Error(`launchPod: no NET-UP/DONE:\n${seen.text.slice(-1000)}`);
  return { netUpMs: netUp, doneMs: done };
};

const libvirtRun = async (pod: Pod, image: GuestImage, capsCacheDir?: string): Promise<LibvirtRun> => {
  const seen = { text: '', at: {} as Record<string, number> };
  const t0 = performance.now();
  const running = launchViaLibvirt(pod.ns, {
    model: 'tcfilter', queues: 1, ping: pod.gateway === undefined ? [] : [pod.gateway], timeoutMs: TIMEOUT_MS, accel: 'tcg', dryRun: false, image,
    ...(capsCacheDir === undefined ? {} : { capsCacheDir }),
    onConsole: clockOn(t0, 'TAPWIRE-NET-UP', seen),
  })();
  // On a signal, cleanup waits (bounded) for the launch's own teardown: daemon, domain, netns.
  const settled = track('a launchViaLibvirt run', async () => {
    await Promise.race([running.then(() => undefined), new Promise((res) => setTimeout(res, 15_000))]);
  });
  const r = await running;
  await settled();
  if (E.isLeft(r)) throw new Error(`launchViaLibvirt: ${describeLibvirtError(r.left)}`);
  const netUp = seen.at['TAPWIRE-NET-UP'];
  const done = seen.at['TAPWIRE-DONE'];
  const t = r.right.timings;
  if (netUp === undefined || done === undefined || t.daemonMs === undefined || t.createMs === undefined) throw new Error(`launchViaLibvirt: no NET-UP/DONE:\n${seen.text.slice(-1000)}`);
  return { netUpMs: netUp, doneMs: done, daemonMs: t.daemonMs, createMs: t.createMs, teardownMs: t.teardownMs ?? Number.NaN };
};

export const runLibvirtBench = async (o: { readonly runs: number; readonly progress?: (line: string) => void }): Promise<LibvirtBenchResult> => {
  const image = await buildGuestImage()();
  if (E.isLeft(image)) throw new Error(`guest image: ${JSON.stringify(image.left)}`);
  const pod = await makePod(1, { withGateway: true });
  const cold = mkdtempSync(join(tmpdir(), 'tapwire-bench-caps-'));
  const dropCold = track(`capability cache ${cold}`, () => rmSync(cold, { recursive: true, force: true }));
  try {
    const first = await libvirtRun(pod, image.right, cold);
    await dropCold();
    o.progress?.(`libvirt: cold capability cache: virsh create ${Math.round(first.createMs)} ms`);
    const qemu: SideRun[] = [];
    const libvirt: LibvirtRun[] = [];
    for (let i = 0; i < o.runs; i++) {
      // Alternating who goes first: the second of a pair finds warmer page caches.
      if (i % 2 === 0) {
        qemu.push(await qemuRun(pod, image.right));
        libvirt.push(await libvirtRun(pod, image.right));
      } else {
        libvirt.push(await libvirtRun(pod, image.right));
        qemu.push(await qemuRun(pod, image.right));
      }
      o.progress?.(`libvirt vs qemu: run ${i + 1}/${o.runs}`);
    }
    const med = (xs: readonly number[]) => round(median(xs));
    return {
      runs: o.runs,
      qemu: { netUpMs: med(qemu.map((r) => r.netUpMs)), doneMs: med(qemu.map((r) => r.doneMs)) },
      libvirt: {
        netUpMs: med(libvirt.map((r) => r.netUpMs)),
        doneMs: med(libvirt.map((r) => r.doneMs)),
        daemonMs: med(libvirt.map((r) => r.daemonMs)),
        createMs: med(libvirt.map((r) => r.createMs)),
        teardownMs: med(libvirt.map((r) => r.teardownMs)),
      },
      coldCreateMs: round(first.createMs),
      warmCreateMs: med(libvirt.map((r) => r.createMs)),
    };
  } finally {
    await dropCold();
    await pod.dispose();
  }
};

/** Why the section cannot run here (no libvirtd or virsh on PATH), or undefined. */
export const libvirtSkipReason = (): string | undefined => {
  const dirs = (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  const missing = ['libvirtd', 'virsh'].filter((c) => !dirs.some((d) => existsSync(join(d, c))));
  return missing.length === 0 ? undefined : `no ${missing.join(' or ')} (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)`;
};
