// The whole loop the project exists for, as a composition of named steps:
// scan -> attach -> prepare NICs -> start -> prove -> stop -> detach
// (steps.ts, boot.ts, prove.ts). The netns is left exactly as found whatever
// fails, times out or is interrupted on the way.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { attachedAs, detach, type Attachment, type Model, type NetmodelProgress } from '@tapwire/netmodel';
import type { NetnsHandle } from '@tapwire/sys';
import { describeNics, preparedOf, type NicFds, type NicSpec } from '@tapwire/vm';
import { guestImagePaths, type GuestImage, type GuestReport } from '../guest/index.js';
import type { QemuError } from '../errors.js';
import { accelPlan, KVM_PROGRESS_MS, type AccelChoice } from './accel.js';
import { bootOnce, passedFds, qemuArgvFor, QEMU_BINARY, type PassedFd } from './boot.js';
import type { LaunchError } from './errors.js';
import { interruptNote, queueNotes, vcpusFor } from './nics.js';
import { stageTimer, type StageEvent, type StageRecord } from './stages.js';
import { guestBootStep } from './guest-boot-config.js';
import { attachStep, scanStep } from './steps.js';
import { bootWithFallback, verdict } from './verdict.js';

export { QEMU_BINARY, type PassedFd };

export interface LaunchOptions {
  readonly model: Model;
  readonly queues: number;
  readonly vhost: 'auto' | 'on' | 'off';
  readonly ping: readonly string[];
  readonly timeoutMs: number;
  readonly accel: AccelChoice;
  readonly dryRun: boolean;
  /**
   * Links attached before this launch are used as they are (their recorded
   * model and queues); `model` and `queues` apply to the others. Without it,
   * an attachment unlike the one asked for fails the launch (AlreadyAttached).
   */
  readonly keepAttached?: boolean;
  readonly memMiB?: number;
  readonly image?: GuestImage;
  readonly vhostUserDir?: string;
  readonly asTap?: readonly string[];
  readonly waitMs?: number;
  readonly onStage?: (e: StageEvent) => void;
  readonly onConsole?: (chunk: string) => void;
  /** netmodel's own steps (lock, read, apply, done) of the attach and the detach. */
  readonly onProgress?: (e: NetmodelProgress) => void;
  /** Aborting stops the launch where it is (the VM stopped, the netns restored), as SIGINT does. */
  readonly signal?: AbortSignal;
}

export interface LaunchResult {
  readonly attachments: readonly Attachment[];
  /** The NICs the VM had, with the PCI addresses QEMU gave them (none for a dry run). */
  readonly nics: readonly NicSpec[];
  /** The QEMU command line, binary first, with the fd numbers QEMU sees. */
  readonly argv: readonly string[];
  readonly fds: readonly PassedFd[];
  readonly guest: GuestReport | undefined;
  readonly accel: 'kvm' | 'tcg' | undefined;
  readonly notes: readonly string[];
  readonly stages: readonly StageRecord[];
  /** The guest came up and every ping answered (always true for a dry run). */
  readonly ok: boolean;
  readonly interrupted: boolean;
}

/** A dry run's fds: the right counts, no fd open (preparedOf names them as a real run would). */
const plannedFds = (nics: readonly NicSpec[], vhost: boolean): NicFds[] =>
  nics.map((n) => {
    const q = n.backend.kind === 'tap' || n.backend.kind === 'macvtap' ? n.queues : 0;
    return { queueFds: Array.from({ length: q }, () => -1), vhostFds: Array.from({ length: vhost ? q : 0 }, () => -1) };
  });

const detachAll = async (ns: NetnsHandle, made: readonly Attachment[], onProgress?: (e: NetmodelProgress) => void): Promise<string[]> => {
  const errors: string[] = [];
  for (const a of [...made].reverse()) {
    // Never aborted: teardown is what an abort leads to.
    const r = await detach(ns, a, onProgress === undefined ? {} : { onProgress })();
    if (E.isLeft(r)) errors.push(`${a.link}: ${r.left._tag}`);
  }
  return errors;
};

export const launchPod =
  (ns: NetnsHandle, o: LaunchOptions): TE.TaskEither<LaunchError, LaunchResult> =>
  async () => {
    const timer = stageTimer(o.onStage);
    const notes: string[] = [];
    const made: Attachment[] = [];
    const workDir = mkdtempSync(join(tmpdir(), 'tapwire-vm-'));
    // SIGINT/SIGTERM and the caller's signal abort the launch wherever it is:
    // every step takes this signal, and the netns is restored on the way out.
    const interrupt = new AbortController();
    const onProcessSignal = (sig: NodeJS.Signals) => {
      // A second one hurries the VM's stop along (proveGuest: no quit grace).
      if (interrupt.signal.aborted) interrupt.signal.dispatchEvent(new Event('abort'));
      else interrupt.abort(`interrupted (${sig})`);
    };
    const onCallerAbort = () => interrupt.abort(o.signal?.reason ?? 'aborted');
    process.on('SIGINT', onProcessSignal);
    process.on('SIGTERM', onProcessSignal);
    o.signal?.addEventListener('abort', onCallerAbort);
    if (o.signal?.aborted === true) onCallerAbort();
    const signal = interrupt.signal;
    let attachments: readonly Attachment[] = [];
    // An abort that surfaces as a step's failure (attach, fds, QEMU start-up) is
    // an interrupt like any other: reported as one, after the same teardown.
    const interrupted = (): E.Either<never, LaunchResult> => {
      timer.closeOpen(`interrupted: ${String(signal.reason)}`);
      return E.right({ attachments, nics: [], argv: [], fds: [], guest: undefined, accel: undefined, notes, stages: timer.records(), ok: false, interrupted: true });
    };
    const fail = (e: QemuError, stage?: Parameters<typeof timer.fail>[0]) => {
      if (signal.aborted) return interrupted();
      if (stage !== undefined) timer.fail(stage);
      return E.left(e);
    };
    try {
      timer.start('scan');
      const scanned = await scanStep(ns, { ...o, signal })();
      if (E.isLeft(scanned)) return fail(scanned.left, 'scan');
      const { endpoints } = scanned.right;
      timer.ok('scan', endpoints.filter((e) => e.skipped === undefined).map((e) => `${e.link.name} (${e.kind})`).join(', ') || 'only links attached already');
      if (signal.aborted) return interrupted();

      timer.start('attach', o.dryRun ? 'dry run: planning only' : undefined);
      const { keepAttached, ...asked } = o;
      const attached = await attachStep(ns, endpoints, { ...asked, signal, ...(keepAttached === true ? { keepAttached: attachedAs(scanned.right.snapshot.links) } : {}) })();
      if (E.isLeft(attached)) return fail(attached.left, 'attach');
      attachments = attached.right;
      if (!o.dryRun) made.push(...attachments.filter((a) => a.existing !== true));
      timer.ok('attach', attachments.map((a) => `${a.link} -> ${a.tapName} (${a.model}, ${a.queues}q)`).join(', ') || 'nothing to attach');

      const vhost = o.vhost === 'on' || (o.vhost === 'auto' && existsSync('/dev/vhost-net'));
      // The NICs as described before anything is opened: the same ids and order prepareNics gives.
      const planned = describeNics(endpoints, attachments, { vhostUserQueues: o.queues });
      // vhost-net only serves taps and macvtaps: a vhost-user NIC has its own backend.
      const fedByFds = planned.some((n) => n.backend.kind === 'tap' || n.backend.kind === 'macvtap');
      if (o.vhost === 'auto' && !vhost && fedByFds) notes.push('no /dev/vhost-net: virtio-net runs in QEMU (vhost off)');
      notes.push(...queueNotes(planned));
      const guest = guestBootStep(scanned.right, planned, o.ping, attachments);
      if (E.isLeft(guest)) return E.left(guest.left);
      notes.push(...guest.right.notes);
      const image = o.image ?? guestImagePaths();
      const { order, note } = accelPlan(o.accel);
      if (note !== undefined) notes.push(note);
      const machine = (accel: 'kvm' | 'tcg', nics: readonly NicSpec[]) => ({
        accel,
        memMiB: o.memMiB ?? 256,
        cpus: vcpusFor(nics),
        // The uncompressed kernel boots seconds faster under TCG (no in-guest decompression).
        kernel: image.kernelElf ?? image.kernel,
        initrd: image.initrd,
        append: guest.right.append,
        // A pod too big for the kernel command line gets its config over the control channel.
        ...(guest.right.control === undefined ? {} : { controlSocket: join(workDir, 'control.sock') }),
        qmpSocket: join(workDir, 'qmp.sock'),
        serialLog: join(workDir, 'serial.log'),
      });
      const noteInterrupts = (accel: 'kvm' | 'tcg'): void => {
        const n = interruptNote(planned, accel, vhost);
        if (n !== undefined && !notes.includes(n)) notes.push(n);
      };

      if (o.dryRun) {
        const accel = order[0] ?? 'tcg';
        noteInterrupts(accel);
        const prepared = preparedOf(planned, plannedFds(planned, vhost));
        const argv = qemuArgvFor(machine(accel, planned), prepared);
        if (E.isLeft(argv)) return argv;
        for (const s of ['fds', 'boot', 'net-up', 'ping'] as const) timer.skip(s, 'dry run');
        const fds = passedFds(prepared);
        return E.right({ attachments, nics: planned, argv: argv.right, fds, guest: undefined, accel: undefined, notes, stages: timer.records(), ok: true, interrupted: false });
      }

      const booted = await bootWithFallback(order, notes, timer, (accel, withProgress) => {
        noteInterrupts(accel);
        return bootOnce({
          ns,
          endpoints,
          attachments,
          accel,
          vhost,
          queues: o.queues,
          machine,
          workDir,
          timeoutMs: o.timeoutMs,
          pinging: o.ping.length > 0,
          ...(withProgress ? { progress: { marker: /TAPWIRE-/, withinMs: KVM_PROGRESS_MS } } : {}),
          ...(o.onConsole === undefined ? {} : { onConsole: o.onConsole }),
          signal,
          timer,
          ...(guest.right.control === undefined ? {} : { control: guest.right.control }),
        });
      });
      if (E.isLeft(booted)) return fail(booted.left);
      return verdict(booted.right, { attachments, notes, timer, ping: o.ping, timeoutMs: o.timeoutMs });
    } finally {
      timer.closeOpen('aborted');
      if (made.length > 0) {
        timer.start('teardown');
        const errors = await detachAll(ns, made, o.onProgress);
        if (errors.length === 0) timer.ok('teardown', `detached ${made.length}`);
        else timer.fail('teardown', errors.join('; '));
      }
      rmSync(workDir, { recursive: true, force: true });
      // Only now: a signal during teardown must not kill the process half way through detach.
      process.removeListener('SIGINT', onProcessSignal);
      process.removeListener('SIGTERM', onProcessSignal);
      o.signal?.removeEventListener('abort', onCallerAbort);
    }
  };
