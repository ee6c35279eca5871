// The whole loop the project exists for: scan a pod netns, attach every
// attachable endpoint, open the queue fds inside the netns, boot a VM with
// them, prove its network, and leave the netns exactly as found - whatever
// fails, times out or is interrupted on the way.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { classify, scanUntilAttachable, type Endpoint } from '@tapwire/endpoints';
import { attachAll, detach, modelFor, plan, wantsModel, type Attachment, type Model } from '@tapwire/netmodel';
import { closeFds, openMacvtapQueues, openTapQueues, openVhostNet, type NetnsHandle, type SysError } from '@tapwire/sys';
import { assignFdPositions, renderQemuArgv } from '../args/index.js';
import {
  describeConsoleParseError,
  guestImagePaths,
  guestRoutingError,
  parseConsole,
  renderGuestCmdline,
  summarizeGuest,
  type GuestImage,
  type GuestReport,
} from '../guest/index.js';
import { describeQmpError } from '../launch/qmp.js';
import { spawnVm, type VmRun } from '../launch/spawn-vm.js';
import { accelPlan, KVM_PROGRESS_MS, rememberKvm, type AccelChoice } from './accel.js';
import type { LaunchError } from './errors.js';
import { guestConfigFor, routesNotReplayed } from './guest-config.js';
import { fdNeeds, guestMacOf, interruptNote, mtuOf, qemuNics, queueNotes, vcpusFor, vmNicsOf, type VmNic } from './nics.js';
import { stageTimer, type StageEvent, type StageRecord } from './stages.js';

export const QEMU_BINARY = 'qemu-system-x86_64';
/** QEMU answers QMP within milliseconds of starting; one that does not in this long is wedged. */
const QMP_READY_MS = 10_000;
/** How long QEMU gets to act on a QMP quit before SIGKILL. */
const QUIT_GRACE_MS = 2_000;

export interface LaunchOptions {
  readonly model: Model;
  readonly queues: number;
  readonly vhost: 'auto' | 'on' | 'off';
  readonly ping: readonly string[];
  readonly timeoutMs: number;
  readonly accel: AccelChoice;
  readonly dryRun: boolean;
  readonly memMiB?: number;
  readonly image?: GuestImage;
  readonly vhostUserDir?: string;
  readonly asTap?: readonly string[];
  readonly waitMs?: number;
  readonly onStage?: (e: StageEvent) => void;
  readonly onConsole?: (chunk: string) => void;
}

export interface PassedFd {
  readonly fd: number;
  readonly what: string;
}

export interface LaunchResult {
  readonly attachments: readonly Attachment[];
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

/** Plans stand in for attachments in a dry run: same names, queues and MACs, nothing made. */
const plannedAttachments = (endpoints: readonly Endpoint[], model: Model, queues: number): E.Either<LaunchError, Attachment[]> => {
  const out: Attachment[] = [];
  for (const e of endpoints.filter(wantsModel)) {
    const p = plan(e, modelFor(model)(e), { queues });
    if (E.isLeft(p)) return p;
    const { link, model: m, tapName, queues: q, multiQueue, guestMac, mtu, device } = p.right;
    out.push({ link, model: m, tapName, queues: q, multiQueue, guestMac, mtu, device });
  }
  return E.right(out);
};

/** Opens every queue (and vhost) fd in the order assignFdPositions numbers them. */
const openFds = (ns: NetnsHandle, nics: readonly VmNic[], vhost: boolean): E.Either<SysError, { fds: number[]; passed: PassedFd[] }> => {
  const fds: number[] = [];
  const passed: PassedFd[] = [];
  const add = (opened: E.Either<SysError, number[]>, what: string): SysError | undefined => {
    if (E.isLeft(opened)) return opened.left;
    for (const [q, fd] of opened.right.entries()) {
      fds.push(fd);
      passed.push({ fd: 3 + passed.length, what: `${what} queue ${q}` });
    }
    return undefined;
  };
  for (const n of nics) {
    if (n.kind !== 'attached') continue;
    const a = n.attachment;
    const err =
      add(
        a.device === 'macvtap'
          ? openMacvtapQueues(ns, a.tapName, a.queues)
          : openTapQueues(ns, a.tapName, { queues: a.queues, multiQueue: a.multiQueue, vnetHdr: true }),
        `${a.device} ${a.tapName}`,
      ) ?? (vhost ? add(openVhostNet(a.queues), `/dev/vhost-net for ${a.tapName}`) : undefined);
    if (err !== undefined) {
      closeFds(fds);
      return E.left(err);
    }
  }
  return E.right({ fds, passed });
};

/** What QMP said (or did not) when that is why QEMU was stopped. */
const unreadyBecause = (run: VmRun): string | undefined =>
  run.stoppedBecause === 'unready' && run.qmp !== undefined && E.isLeft(run.qmp) ? describeQmpError(run.qmp.left) : undefined;

const consoleTail = (text: string, lines = 15): string => text.split('\n').slice(-lines).join('\n').trim();

export const launchPod =
  (ns: NetnsHandle, o: LaunchOptions): TE.TaskEither<LaunchError, LaunchResult> =>
  async () => {
    const timer = stageTimer(o.onStage);
    const notes: string[] = [];
    const made: Attachment[] = [];
    const workDir = mkdtempSync(join(tmpdir(), 'tapwire-vm-'));
    const qmpSocket = join(workDir, 'qmp.sock');
    let interrupted = false;
    const fail = (e: LaunchError, stage?: Parameters<typeof timer.fail>[0]) => {
      if (stage !== undefined) timer.fail(stage);
      return E.left(e);
    };
    try {
      timer.start('scan');
      const scanned = await scanUntilAttachable(ns, o.waitMs ?? 0, {
        ...(o.vhostUserDir === undefined ? {} : { vhostUserDir: o.vhostUserDir }),
        asTap: o.asTap ?? [],
      })();
      if (E.isLeft(scanned)) return fail(scanned.left, 'scan');
      const { snapshot } = scanned.right;
      const endpoints = classify(snapshot, { asTap: o.asTap ?? [] });
      const usable = endpoints.filter((e) => e.skipped === undefined);
      if (usable.length === 0) {
        return fail({ _tag: 'NothingToAttach', netns: ns.spec, seen: endpoints.map((e) => `${e.link.name}: ${e.skipped ?? ''}`) }, 'scan');
      }
      timer.ok('scan', usable.map((e) => `${e.link.name} (${e.kind})`).join(', '));

      const vhost = o.vhost === 'on' || (o.vhost === 'auto' && existsSync('/dev/vhost-net'));

      timer.start('attach', o.dryRun ? 'dry run: planning only' : undefined);
      let attachments: readonly Attachment[];
      if (o.dryRun) {
        const planned = plannedAttachments(endpoints, o.model, o.queues);
        if (E.isLeft(planned)) return fail(planned.left, 'attach');
        attachments = planned.right;
      } else {
        const attached = await attachAll(ns, endpoints, o.model, { queues: o.queues })();
        if (E.isLeft(attached)) return fail(attached.left, 'attach');
        attachments = attached.right;
        made.push(...attachments.filter((a) => a.existing !== true));
      }
      timer.ok('attach', attachments.map((a) => `${a.link} -> ${a.tapName} (${a.model}, ${a.queues}q)`).join(', ') || 'nothing to attach');

      const nics = vmNicsOf(endpoints, attachments, o.queues);
      // vhost-net only serves taps and macvtaps: a vhost-user NIC has its own backend.
      if (o.vhost === 'auto' && !vhost && nics.some((n) => n.kind === 'attached')) notes.push('no /dev/vhost-net: virtio-net runs in QEMU (vhost off)');
      notes.push(...queueNotes(nics));
      const positions = assignFdPositions(fdNeeds(nics, vhost));
      if (E.isLeft(positions)) return E.left(positions.left);
      const podNics = nics.map((n) => ({ link: n.endpoint.link, mac: guestMacOf(n), mtu: mtuOf(n) }));
      const guestConfig = guestConfigFor(snapshot, podNics, o.ping);
      const notReplayed = routesNotReplayed(snapshot, podNics);
      if (notReplayed.length > 0) notes.push(`the guest does not get these routes of the pod: ${notReplayed.join('; ')}`);
      const append = renderGuestCmdline(guestConfig);
      if (E.isLeft(append)) return E.left(append.left);
      const image = o.image ?? guestImagePaths();
      const { order, note } = accelPlan(o.accel);
      if (note !== undefined) notes.push(note);

      const argvFor = (accel: 'kvm' | 'tcg') =>
        // The accelerator shapes the devices too (see interruptsFor), so every attempt renders its own.
        renderQemuArgv({
          machine: {
            accel,
            memMiB: o.memMiB ?? 256,
            cpus: vcpusFor(nics),
            // The uncompressed kernel boots seconds faster under TCG (no in-guest decompression).
            kernel: image.kernelElf ?? image.kernel,
            initrd: image.initrd,
            append: append.right,
            qmpSocket,
            serialLog: join(workDir, 'serial.log'),
          },
          nics: qemuNics(nics, positions.right),
        });

      const noteInterrupts = (accel: 'kvm' | 'tcg'): void => {
        const n = interruptNote(nics, accel, vhost);
        if (n !== undefined && !notes.includes(n)) notes.push(n);
      };

      if (o.dryRun) {
        noteInterrupts(order[0] ?? 'tcg');
        const argv = argvFor(order[0] ?? 'tcg');
        if (E.isLeft(argv)) return E.left(argv.left);
        const passed = nics.flatMap((n, i) =>
          n.kind !== 'attached'
            ? []
            : [
                ...(positions.right[i]?.queueFds ?? []).map((fd, q) => ({ fd, what: `${n.attachment.device} ${n.attachment.tapName} queue ${q}` })),
                ...(positions.right[i]?.vhostFds ?? []).map((fd, q) => ({ fd, what: `/dev/vhost-net for ${n.attachment.tapName} queue ${q}` })),
              ],
        );
        for (const s of ['fds', 'boot', 'net-up', 'ping'] as const) timer.skip(s, 'dry run');
        return E.right({ attachments, argv: [QEMU_BINARY, ...argv.right], fds: passed, guest: undefined, accel: undefined, notes, stages: timer.records(), ok: true, interrupted });
      }

      let run: VmRun | undefined;
      let argvUsed: readonly string[] = [];
      let passedUsed: readonly PassedFd[] = [];
      let accelUsed: 'kvm' | 'tcg' | undefined;
      for (const accel of order) {
        timer.start('fds');
        const opened = openFds(ns, nics, vhost);
        if (E.isLeft(opened)) return fail(opened.left, 'fds');
        timer.ok('fds', `${opened.right.fds.length} fds`);
        const argv = argvFor(accel);
        noteInterrupts(accel);
        if (E.isLeft(argv)) {
          closeFds(opened.right.fds);
          return E.left(argv.left);
        }
        argvUsed = [QEMU_BINARY, ...argv.right];
        passedUsed = opened.right.passed;
        accelUsed = accel;
        timer.start('boot', accel);
        let seen = '';
        let phase: 'boot' | 'net-up' | 'ping' | 'done' = 'boot';
        let qemu: { version: string; status: string } | undefined;
        const bootStart = Date.now();
        // Stage ends are read off the console as the guest reports them; boot
        // also needs QMP's word that QEMU is up (it comes long before the guest's).
        const advance = () => {
          if (phase === 'boot' && qemu !== undefined && seen.includes('TAPWIRE-NET-UP')) {
            timer.ok('boot', `${accel}, QEMU ${qemu.version} ${qemu.status}`, Date.now() - bootStart);
            timer.start('net-up');
            phase = 'net-up';
          }
          if (phase === 'net-up' && /TAPWIRE-(PING|DONE)/.test(seen)) {
            timer.ok('net-up');
            if (o.ping.length > 0) timer.start('ping');
            phase = 'ping';
          }
          if (phase === 'ping' && seen.includes('TAPWIRE-DONE')) phase = 'done';
        };
        // A socket left by a previous attempt would only be refused.
        rmSync(qmpSocket, { force: true });
        run = await spawnVm({
          ns,
          argv: argvUsed,
          fds: opened.right.fds,
          timeoutMs: o.timeoutMs,
          // A whole DONE line: stopping on a partial one would cut its fields off.
          doneWhen: (c) => /TAPWIRE-DONE[^\n]*\n/.test(c),
          ...(accel === 'kvm' && order.length > 1 ? { progress: { marker: /TAPWIRE-/, withinMs: KVM_PROGRESS_MS } } : {}),
          // QEMU holds its own copies now; ours would only keep the queues busy.
          onSpawned: () => {
            closeFds(opened.right.fds);
          },
          onConsole: (chunk) => {
            o.onConsole?.(chunk);
            seen += chunk;
            advance();
          },
          qmp: {
            socket: qmpSocket,
            readyWithinMs: QMP_READY_MS,
            quitGraceMs: QUIT_GRACE_MS,
            onReady: (r) => {
              if (E.isLeft(r)) return;
              qemu = r.right;
              advance();
            },
          },
        });
        if (run.stoppedBecause === 'signal') interrupted = true;
        const kvmBroken = accel === 'kvm' && order.length > 1 && run.stoppedBecause !== 'signal' && !run.console.includes('TAPWIRE-');
        if (kvmBroken) {
          const unready = unreadyBecause(run);
          const why =
            run.stoppedBecause === 'stalled'
              ? `the guest made no progress in ${KVM_PROGRESS_MS / 1000} s`
              : unready !== undefined
                ? `QEMU was not ready on QMP (${unready})`
                : `QEMU failed under KVM (${run.stderr.trim().split('\n').pop() ?? `exit ${run.exitCode ?? run.signal ?? '?'}`})`;
          timer.retry('boot', 'KVM unusable here: fell back to TCG');
          notes.push(`/dev/kvm opens but ${why}: fell back to TCG`);
          rememberKvm(true);
          continue;
        }
        if (accel === 'kvm') rememberKvm(false);
        break;
      }
      if (run === undefined) return E.left({ _tag: 'VmFailed', accel: 'none', detail: 'no accelerator to try', consoleTail: '' });
      if (run.stoppedBecause === 'unready' && run.qmp !== undefined && E.isLeft(run.qmp)) {
        timer.fail('boot', `QEMU was not ready on QMP: ${describeQmpError(run.qmp.left)}`);
        return E.left({ _tag: 'VmNotReady', accel: accelUsed ?? '?', cause: run.qmp.left, stderr: run.stderr.trim().split('\n').slice(-2).join(' ') });
      }
      const events = parseConsole(run.console);
      const guest = E.isRight(events) ? summarizeGuest(events.right) : undefined;
      if (E.isLeft(events)) notes.push(`console: ${events.left.line}`);
      const pings = guest?.pings ?? [];
      if (o.ping.length > 0) {
        const okPings = pings.filter((p) => p._tag === 'PingOk').length;
        const note = `${okPings}/${o.ping.length} targets answered`;
        if (okPings === o.ping.length) timer.ok('ping', note);
        else timer.fail('ping', note);
      } else {
        timer.skip('ping', 'no --ping');
      }
      timer.closeOpen(run.stoppedBecause ?? 'QEMU exited');
      if (guest === undefined || !guest.done) {
        const why = E.isLeft(events)
          ? `the guest's console report is malformed: ${describeConsoleParseError(events.left)}`
          : run.stoppedBecause === 'timeout'
            ? `no TAPWIRE-DONE within ${o.timeoutMs} ms`
            : run.stoppedBecause === 'signal'
              ? 'interrupted'
              : `QEMU exited (code ${run.exitCode ?? run.signal ?? '?'}) before the guest finished: ${run.stderr.trim().split('\n').slice(-2).join(' ')}`;
        return E.left({ _tag: 'VmFailed', accel: accelUsed ?? '?', detail: why, consoleTail: consoleTail(run.console) });
      }
      // Pings that pass through a wrong routing table are no success either.
      const routing = guestRoutingError(guest);
      if (routing !== undefined) return E.left(routing);
      return E.right({ attachments, argv: argvUsed, fds: passedUsed, guest, accel: accelUsed, notes, stages: timer.records(), ok: guest.ok, interrupted });
    } finally {
      timer.closeOpen('aborted');
      if (made.length > 0) {
        timer.start('teardown');
        const errors: string[] = [];
        for (const a of [...made].reverse()) {
          const r = await detach(ns, a)();
          if (E.isLeft(r)) errors.push(`${a.link}: ${r.left._tag}`);
        }
        if (errors.length === 0) timer.ok('teardown', `detached ${made.length}`);
        else timer.fail('teardown', errors.join('; '));
      }
      rmSync(workDir, { recursive: true, force: true });
    }
  };
