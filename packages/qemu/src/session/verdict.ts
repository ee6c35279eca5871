// After the VM: whether the guest proved the network (its console report
// parsed, pings counted, routing compared with the pod's), and the KVM ->
// TCG fallback around boot attempts.
import * as E from 'fp-ts/lib/Either.js';
import type { Attachment } from '@tapwire/netmodel';
import { describeConsoleParseError, guestRoutingError, parseConsole, summarizeGuest } from '../guest/index.js';
import { describeQemuError, type QemuError } from '../errors.js';
import { KVM_PROGRESS_MS, rememberKvm } from './accel.js';
import type { Booted } from './boot.js';
import type { LaunchResult } from './launch-pod.js';
import type { Stage } from './stages.js';

interface Timer {
  readonly ok: (s: Stage, note?: string, ms?: number) => void;
  readonly fail: (s: Stage, note?: string) => void;
  readonly skip: (s: Stage, note?: string) => void;
  readonly retry: (s: Stage, note: string) => void;
  readonly closeOpen: (note: string) => void;
  readonly records: () => LaunchResult['stages'];
}

const consoleTail = (text: string, lines = 15): string => text.split('\n').slice(-lines).join('\n').trim();
const lastLines = (text: string, n = 2): string => text.trim().split('\n').slice(-n).join(' ');

export type Attempt = { readonly accel: 'kvm' | 'tcg'; readonly booted: Booted };

/**
 * Boots under each accelerator in order until one runs the guest: a KVM that
 * opens but hangs (no console progress, no QMP, or QEMU dying) gives way to TCG.
 */
export const bootWithFallback = async (
  order: readonly ('kvm' | 'tcg')[],
  notes: string[],
  timer: Timer,
  attempt: (accel: 'kvm' | 'tcg', withProgress: boolean) => Promise<E.Either<QemuError, Booted>>,
): Promise<E.Either<QemuError, Attempt>> => {
  for (const [i, accel] of order.entries()) {
    const fallback = accel === 'kvm' && i < order.length - 1;
    const r = await attempt(accel, fallback);
    const why = !fallback
      ? undefined
      : E.isLeft(r)
        ? r.left._tag === 'VmNotReady' || r.left._tag === 'VmStartFailed'
          ? `QEMU was not ready under KVM (${describeQemuError(r.left)})`
          : undefined
        : r.right.proof.stoppedBecause !== 'signal' && !r.right.proof.console.includes('TAPWIRE-')
          ? r.right.proof.stoppedBecause === 'stalled'
            ? `the guest made no progress in ${KVM_PROGRESS_MS / 1000} s`
            : `QEMU failed under KVM (${lastLines(r.right.proof.exit.stderr, 1) || `exit ${r.right.proof.exit.exitCode ?? r.right.proof.exit.signal ?? '?'}`})`
          : undefined;
    if (why !== undefined) {
      timer.retry('boot', 'KVM unusable here: fell back to TCG');
      notes.push(`/dev/kvm opens but ${why}: fell back to TCG`);
      rememberKvm(true);
      continue;
    }
    if (accel === 'kvm' && E.isRight(r)) rememberKvm(false);
    if (E.isLeft(r)) {
      if (r.left._tag === 'VmNotReady') timer.fail('boot', `QEMU was not ready on QMP: ${describeQemuError(r.left)}`);
      return r;
    }
    return E.right({ accel, booted: r.right });
  }
  return E.left({ _tag: 'VmFailed', accel: 'none', detail: 'no accelerator to try', consoleTail: '' });
};

export interface VerdictContext {
  readonly attachments: readonly Attachment[];
  readonly notes: string[];
  readonly timer: Timer;
  readonly ping: readonly string[];
  readonly timeoutMs: number;
}

export const verdict = ({ accel, booted }: Attempt, c: VerdictContext): E.Either<QemuError, LaunchResult> => {
  const { proof } = booted;
  const interrupted = proof.stoppedBecause === 'signal';
  const events = parseConsole(proof.console);
  const guest = E.isRight(events) ? summarizeGuest(events.right) : undefined;
  if (E.isLeft(events)) c.notes.push(`console: ${events.left.line}`);
  if (c.ping.length > 0) {
    const okPings = (guest?.pings ?? []).filter((p) => p._tag === 'PingOk').length;
    const note = `${okPings}/${c.ping.length} targets answered`;
    if (okPings === c.ping.length) c.timer.ok('ping', note);
    else c.timer.fail('ping', note);
  } else {
    c.timer.skip('ping', 'no --ping');
  }
  c.timer.closeOpen(proof.stoppedBecause ?? 'QEMU exited');
  // A control-channel boot says DONE before its config: only TAPWIRE-APPLIED means the NICs were configured.
  const control = booted.control;
  const unapplied = control !== undefined && !control.applied;
  if (guest === undefined || !guest.done || unapplied) {
    const why = E.isLeft(events)
      ? `the guest's console report is malformed: ${describeConsoleParseError(events.left)}`
      : control?.error !== undefined && !interrupted
        ? `the guest's config could not go over the control channel: ${control.error}`
      : proof.stoppedBecause === 'timeout'
        ? `no ${unapplied ? 'TAPWIRE-APPLIED' : 'TAPWIRE-DONE'} within ${c.timeoutMs} ms`
        : interrupted
          ? 'interrupted'
          : `QEMU exited (code ${proof.exit.exitCode ?? proof.exit.signal ?? '?'}) before the guest finished: ${lastLines(proof.exit.stderr)}`;
    return E.left({ _tag: 'VmFailed', accel, detail: why, consoleTail: consoleTail(proof.console) });
  }
  // Pings that pass through a wrong routing table are no success either.
  const routing = guestRoutingError(guest);
  if (routing !== undefined) return E.left(routing);
  return E.right({
    attachments: c.attachments,
    nics: booted.nics,
    argv: booted.argv,
    fds: booted.passed,
    guest,
    accel,
    notes: c.notes,
    stages: c.timer.records(),
    ok: guest.ok,
    interrupted,
  });
};
