// Guest boot to "network up": tapwire's launcher (launchPod, TCG) against the
// same QEMU command line started by hand after making the tap and the tc
// redirects with one ip/tc process each. Both clocks run from the first
// thing each does to the guest's TAPWIRE-NET-UP line on the serial console.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { decodeLinks } from '@tapwire/endpoints';
import { defaultTapName } from '@tapwire/netmodel';
import { buildGuestImage, describeLaunchError, launchPod, type GuestImage, type LaunchOptions, type StageEvent, type StageRecord } from '@tapwire/qemu';
import { describeSysError } from '@tapwire/sys';
import { handArgv } from './boot-argv.js';
import { track } from './cleanup.js';
import { attachCommands, detachCommands, handTargets } from './hand-commands.js';
import { makePod, type Pod } from './pod.js';
import { spawner } from './spawner.js';
import { median, round } from './stats.js';

const NET_UP = 'TAPWIRE-NET-UP';
const TIMEOUT_MS = 180_000;

/** The guest's own uptime (s) when it reported network up: its share of the wall time. */
export const guestUptimeAtNetUp = (console: string): number | undefined => {
  const line = console.split('\n').find((l) => l.startsWith(NET_UP));
  const m = line === undefined ? null : /uptime=([0-9.]+)/.exec(line);
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

class LaunchFailed extends Error {
  constructor(
    message: string,
    readonly cutDoneLine: boolean,
  ) {
    super(message);
  }
}

/** Retries only the cut-DONE-line race, at most MAX_RETRIES times per run, counting them. */
const launcherRunRetrying = async (pod: Pod, image: GuestImage, retries: { count: number }): Promise<LauncherRun> => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await launcherRun(pod, image);
    } catch (e) {
      if (!(e instanceof LaunchFailed) || !e.cutDoneLine || attempt >= MAX_RETRIES) throw e;
      retries.count += 1;
    }
  }
};

const MAX_RETRIES = 5;

interface BootRun {
  readonly netUpMs: number;
  /** From the clock's start to spawning QEMU: everything done on the host first. */
  readonly preQemuMs: number;
  readonly guestUptimeS: number;
}

interface LauncherRun extends BootRun {
  readonly totalMs: number;
  readonly stages: readonly StageRecord[];
}

interface HandRun extends BootRun {
  readonly spawns: number;
}

const launchOptions = (image: GuestImage, dryRun: boolean, onConsole?: (chunk: string) => void, onStage?: (e: StageEvent) => void): LaunchOptions => ({
  model: 'tcfilter',
  queues: 1,
  vhost: 'off',
  ping: [],
  timeoutMs: TIMEOUT_MS,
  accel: 'tcg',
  dryRun,
  image,
  ...(onConsole === undefined ? {} : { onConsole }),
  ...(onStage === undefined ? {} : { onStage }),
});

const launcherRun = async (pod: Pod, image: GuestImage): Promise<LauncherRun> => {
  let seen = '';
  let netUpMs: number | undefined;
  let preQemuMs: number | undefined;
  const t0 = performance.now();
  const running = launchPod(
    pod.ns,
    launchOptions(
      image,
      false,
      (chunk) => {
        seen += chunk;
        if (netUpMs === undefined && seen.includes(NET_UP)) netUpMs = performance.now() - t0;
      },
      (e) => {
        // The launcher starts its 'boot' stage right before it spawns QEMU.
        if (e.stage === 'boot' && e.status === 'start' && preQemuMs === undefined) preQemuMs = performance.now() - t0;
      },
    ),
  )();
  // On SIGINT/SIGTERM launchPod stops QEMU itself and tears down; cleanup waits
  // for that (bounded) before it deletes the netns under it.
  const settled = track('a launchPod run', async () => {
    await Promise.race([running.then(() => undefined, () => undefined), new Promise((res) => setTimeout(res, 15_000))]);
  });
  const r = await running;
  const totalMs = performance.now() - t0;
  await settled();
  if (E.isLeft(r)) {
    // The launcher stops QEMU as soon as 'TAPWIRE-DONE' shows up, which can be
    // before the rest of that line arrives; the cut line then fails to parse.
    // The guest did everything: a known launcher race, retried and counted.
    const cutDone = r.left._tag === 'VmFailed' && netUpMs !== undefined && /TAPWIRE-DONE\s*$/.test(seen);
    throw new LaunchFailed(`launchPod: ${describeLaunchError(r.left)}`, cutDone);
  }
  const uptime = guestUptimeAtNetUp(seen);
  if (netUpMs === undefined || uptime === undefined || preQemuMs === undefined) throw new Error(`launchPod: no boot stage or no ${NET_UP}:\n${seen.slice(-2000)}`);
  return { netUpMs, preQemuMs, guestUptimeS: uptime, totalMs, stages: r.right.stages };
};

/** The argv a person would copy from `tapwire launch --dry-run`. */
const dryRunArgv = async (pod: Pod, image: GuestImage): Promise<readonly string[]> => {
  const r = await launchPod(pod.ns, launchOptions(image, true))();
  if (E.isLeft(r)) throw new Error(`launchPod --dry-run: ${describeLaunchError(r.left)}`);
  return r.right.argv;
};

const handRun = async (pod: Pod, dryArgv: readonly string[]): Promise<HandRun> => {
  const sh = spawner();
  const workDir = mkdtempSync(join(tmpdir(), 'tapwire-bench-vm-'));
  let links: ReturnType<typeof handTargets> = [];
  let qemu: ReturnType<typeof execa> | undefined;
  const stopQemu = track(`QEMU started by hand in ${pod.name}`, async () => {
    qemu?.kill('SIGKILL');
    await qemu?.catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  });
  try {
    const t0 = performance.now();
    const decoded = decodeLinks(await sh.run('ip', ['-n', pod.name, '-j', '-d', 'addr', 'show']));
    if (E.isLeft(decoded)) throw new Error(`hand scan: ${JSON.stringify(decoded.left)}`);
    links = handTargets(decoded.right);
    const link = links[0];
    if (links.length !== 1 || link === undefined) throw new Error(`boot pod: expected one veth, found ${links.length}`);
    for (const { tool, argv } of attachCommands(link, 1)) for (const a of argv) await sh.run(tool, ['-n', pod.name, ...a]);
    const [file, ...args] = handArgv(dryArgv, defaultTapName(link.ifindex), 1, workDir);
    if (file === undefined) throw new Error('dry-run argv is empty');
    const preQemuMs = performance.now() - t0;
    let seen = '';
    let netUpMs: number | undefined;
    qemu = execa('ip', ['netns', 'exec', pod.name, file, ...args], { reject: false, stdin: 'ignore', buffer: false, encoding: 'utf8', killSignal: 'SIGKILL' });
    const child = qemu;
    const netUp = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`QEMU by hand: no ${NET_UP} within ${TIMEOUT_MS} ms:\n${seen.slice(-2000)}`)), TIMEOUT_MS);
      child.stdout?.on('data', (chunk: string) => {
        seen += chunk;
        if (netUpMs === undefined && seen.includes(NET_UP)) {
          netUpMs = performance.now() - t0;
          clearTimeout(timer);
          resolve();
        }
      });
      void child.then((r) => {
        clearTimeout(timer);
        if (netUpMs === undefined) reject(new Error(`QEMU by hand exited (${r.exitCode ?? r.signal ?? '?'}) before ${NET_UP}: ${String(r.stderr ?? '').trim()}\n${seen.slice(-2000)}`));
      });
    });
    await netUp;
    // One more chunk may complete the NET-UP line (with its uptime) right after.
    const uptimeFrom = async (): Promise<number | undefined> => {
      for (let i = 0; i < 50 && guestUptimeAtNetUp(seen) === undefined; i++) await new Promise((r) => setTimeout(r, 20));
      return guestUptimeAtNetUp(seen);
    };
    const uptime = await uptimeFrom();
    if (netUpMs === undefined || uptime === undefined) throw new Error(`QEMU by hand: ${NET_UP} without uptime:\n${seen.slice(-500)}`);
    return { netUpMs, preQemuMs, guestUptimeS: uptime, spawns: sh.count() + 1 };
  } finally {
    await stopQemu();
    if (links.length > 0) {
      const undo = detachCommands(links);
      for (const argv of undo.tc) await execa('tc', ['-n', pod.name, ...argv], { reject: false });
      for (const argv of undo.ip) await execa('ip', ['-n', pod.name, ...argv], { reject: false });
    }
    rmSync(workDir, { recursive: true, force: true });
  }
};

export interface BootSide {
  readonly netUpMs: number;
  /** Host work before QEMU is spawned (launcher: scan, attach, fds; by hand: scan, ip, tc). */
  readonly preQemuMs: number;
  /** QEMU spawned to NET-UP on the console. */
  readonly qemuToNetUpMs: number;
  /** netUpMs minus the guest's own uptime at NET-UP: host-side work plus QEMU start-up. */
  readonly hostSideMs: number;
  readonly guestUptimeS: number;
}

export interface BootResult {
  readonly runs: number;
  readonly accel: 'tcg';
  readonly queues: 1;
  readonly launcher: BootSide & { readonly totalMs: number; readonly stagesMs: Readonly<Record<string, number>> };
  readonly byHand: BootSide & { readonly spawns: number };
  /**
   * Launcher runs repeated because QEMU was stopped on a 'TAPWIRE-DONE' cut
   * mid-line and launchPod then reported a failure (see notes).
   */
  readonly launcherRetries: number;
  readonly notes: readonly string[];
  /** Median launcher net-up minus median by-hand net-up. */
  readonly launcherExtraMs: number;
  /** The same on hostSideMs, which the guest's TCG boot jitter does not move. */
  readonly launcherExtraHostSideMs: number;
}

const side = (runs: readonly BootRun[]): BootSide => ({
  netUpMs: round(median(runs.map((r) => r.netUpMs))),
  preQemuMs: round(median(runs.map((r) => r.preQemuMs))),
  qemuToNetUpMs: round(median(runs.map((r) => r.netUpMs - r.preQemuMs))),
  hostSideMs: round(median(runs.map((r) => r.netUpMs - r.guestUptimeS * 1000))),
  guestUptimeS: round(median(runs.map((r) => r.guestUptimeS)), 2),
});

export const runBootBench = async (o: { readonly runs: number; readonly progress?: (line: string) => void }): Promise<BootResult> => {
  const image = await buildGuestImage()();
  if (E.isLeft(image)) throw new Error(`guest image: ${describeSysError(image.left)}`);
  const pod = await makePod(1, { withGateway: true });
  try {
    const dryArgv = await dryRunArgv(pod, image.right);
    const launcher: LauncherRun[] = [];
    const byHand: HandRun[] = [];
    const retries = { count: 0 };
    for (let r = 0; r < o.runs; r++) {
      // Alternate who goes first, so neither always boots on a warmer host.
      const order = r % 2 === 0 ? (['launcher', 'hand'] as const) : (['hand', 'launcher'] as const);
      for (const who of order) {
        if (who === 'launcher') launcher.push(await launcherRunRetrying(pod, image.right, retries));
        else byHand.push(await handRun(pod, dryArgv));
      }
      o.progress?.(`boot: run ${r + 1}/${o.runs}: launcher net-up ${Math.round(launcher.at(-1)?.netUpMs ?? NaN)} ms, by hand ${Math.round(byHand.at(-1)?.netUpMs ?? NaN)} ms`);
    }
    const stageNames = [...new Set(launcher.flatMap((r) => r.stages.filter((s) => s.status !== 'skip').map((s) => s.stage)))];
    const stagesMs = Object.fromEntries(stageNames.map((s) => [s, round(median(launcher.map((r) => r.stages.find((x) => x.stage === s)?.ms ?? Number.NaN)))]));
    const l = side(launcher);
    const h = side(byHand);
    return {
      runs: o.runs,
      accel: 'tcg',
      queues: 1,
      launcher: { ...l, totalMs: round(median(launcher.map((r) => r.totalMs))), stagesMs },
      byHand: { ...h, spawns: byHand[0]?.spawns ?? 0 },
      launcherRetries: retries.count,
      notes:
        retries.count === 0
          ? []
          : [
              `launchPod failed ${retries.count} time(s) after the guest had finished: it stops QEMU when the console contains 'TAPWIRE-DONE', ` +
                'sometimes before the rest of that line is read, and the cut line fails to parse (qemu package: doneWhen should wait for a whole line)',
            ],
      launcherExtraMs: round(l.netUpMs - h.netUpMs),
      launcherExtraHostSideMs: round(l.hostSideMs - h.hostSideMs),
    };
  } finally {
    await pod.dispose();
  }
};
