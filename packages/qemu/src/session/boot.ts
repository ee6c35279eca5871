// One boot attempt under one accelerator: prepare the NICs (fds opened in the
// netns), render the command line with the child's fd numbers, start the VM
// (a handle), watch it prove the network, stop it. The parent's fds are
// closed once QEMU holds its copies, or when the attempt fails before that.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Endpoint } from '@tapwire/endpoints';
import type { Attachment } from '@tapwire/netmodel';
import type { NetnsHandle } from '@tapwire/sys';
import { inheritFds, prepareNics, type NicSpec, type PreparedNics } from '@tapwire/vm';
import { renderQemuArgv, type MachineSpec } from '../args/index.js';
import { fromArgs, fromVm, type QemuError } from '../errors.js';
import { startVm } from '../vm/start.js';
import { podReportOf, sendBootBatch } from './control-boot.js';
import { proveGuest, type Proof } from './prove.js';
import type { Stage } from './stages.js';

export const QEMU_BINARY = 'qemu-system-x86_64';
/** QEMU answers QMP within milliseconds of starting; one that does not in this long is wedged. */
const QMP_READY_MS = 10_000;
/** How long QEMU gets to act on a QMP quit before SIGKILL. */
const QUIT_GRACE_MS = 2_000;

export interface PassedFd {
  readonly fd: number;
  readonly what: string;
}

/** The fds the child gets, named, at the numbers it sees them. */
export const passedFds = (prepared: PreparedNics): PassedFd[] => prepared.held.map((h, i) => ({ fd: 3 + i, what: h.what }));

/** argv for a set of prepared NICs: the child's fd numbers rendered in. */
export const qemuArgvFor = (machine: Omit<MachineSpec, 'needsSharedMemory'>, prepared: PreparedNics): E.Either<QemuError, string[]> => {
  const { positions } = inheritFds(prepared.fds);
  const nics = prepared.nics.map((spec, i) => ({ spec, fds: positions[i] ?? { queueFds: [], vhostFds: [] } }));
  return E.bimap(fromArgs, (argv: string[]) => [QEMU_BINARY, ...argv])(renderQemuArgv({ machine, nics }));
};

export interface BootTimer {
  readonly start: (s: Stage, note?: string) => void;
  readonly ok: (s: Stage, note?: string, ms?: number) => void;
  readonly fail: (s: Stage, note?: string) => void;
}

export interface BootAttempt {
  readonly ns: NetnsHandle;
  readonly endpoints: readonly Endpoint[];
  readonly attachments: readonly Attachment[];
  readonly accel: 'kvm' | 'tcg';
  readonly vhost: boolean;
  readonly queues: number;
  readonly machine: (accel: 'kvm' | 'tcg', nics: readonly NicSpec[]) => Omit<MachineSpec, 'needsSharedMemory'>;
  readonly workDir: string;
  readonly timeoutMs: number;
  readonly pinging: boolean;
  readonly progress?: { readonly marker: RegExp; readonly withinMs: number };
  readonly onConsole?: (chunk: string) => void;
  readonly signal?: AbortSignal;
  readonly timer: BootTimer;
  /**
   * The guest's config goes over the control channel (guest-boot-config.ts):
   * these lines, once it listens; the machine has a controlSocket then.
   */
  readonly control?: { readonly lines: readonly string[]; readonly tag: string };
}

export interface Booted {
  readonly argv: readonly string[];
  readonly passed: readonly PassedFd[];
  readonly nics: readonly NicSpec[];
  readonly proof: Proof;
  /** A control-channel boot: whether the guest applied the batch, and why not when known. */
  readonly control?: { readonly applied: boolean; readonly error?: string };
}

/** Left: the VM never ran (fds, argv, start); Right: it ran, and the proof says how far it got. */
export const bootOnce = async (a: BootAttempt): Promise<E.Either<QemuError, Booted>> => {
  a.timer.start('fds');
  const prepared = await prepareNics(a.ns, a.endpoints, a.attachments, { vhost: a.vhost, vhostUserQueues: a.queues, ...(a.signal === undefined ? {} : { signal: a.signal }) })();
  if (E.isLeft(prepared)) {
    a.timer.fail('fds');
    return E.left(fromVm(prepared.left));
  }
  const p = prepared.right;
  a.timer.ok('fds', `${p.held.length} fds`);
  const machine = a.machine(a.accel, p.nics);
  const argv = qemuArgvFor(machine, p);
  if (E.isLeft(argv)) {
    p.close();
    return argv;
  }
  a.timer.start('boot', a.accel);
  const qmpSocket = join(a.workDir, 'qmp.sock');
  // A socket left by a previous attempt would only be refused.
  rmSync(qmpSocket, { force: true });
  if (machine.controlSocket !== undefined) rmSync(machine.controlSocket, { force: true });
  const bootStart = Date.now();
  const started = await startVm({
    ns: a.ns,
    argv: argv.right,
    qmpSocket,
    inherited: inheritFds(p.fds).inherited,
    nics: p.nics,
    serialLog: join(a.workDir, 'serial.log'),
    readyWithinMs: QMP_READY_MS,
    quitGraceMs: QUIT_GRACE_MS,
    // QEMU holds its own copies now; ours would only keep the queues busy.
    onSpawned: p.close,
    ...(a.signal === undefined ? {} : { signal: a.signal }),
  })();
  p.close();
  if (E.isLeft(started)) return E.left(started.left._tag === 'VmNotReady' ? { ...started.left, accel: a.accel } : started.left);
  const vm = started.right;
  // Stage ends are read off the console as the guest reports them.
  let phase: 'boot' | 'net-up' | 'ping' | 'done' = 'boot';
  let seen = '';
  let netUpAt = 0;
  let refreshed: Promise<unknown> | undefined;
  const advance = (chunk: string) => {
    a.onConsole?.(chunk);
    seen += chunk;
    if (phase === 'boot' && seen.includes('TAPWIRE-NET-UP')) {
      a.timer.ok('boot', `${a.accel}, QEMU ${vm.version} running`, Date.now() - bootStart);
      a.timer.start('net-up');
      phase = 'net-up';
      netUpAt = seen.indexOf('TAPWIRE-NET-UP');
      // The firmware has numbered the buses by now: NICs behind root ports get their address too
      // (startVm read query-pci before it ran). QMP answers this before the stop's quit.
      refreshed = vm.nics.refresh()();
    }
    // From the first NET-UP on: a control-channel boot said DONE (of no NICs) before it.
    if (phase === 'net-up' && /TAPWIRE-(PING|DONE|APPLIED)/.test(seen.slice(netUpAt))) {
      a.timer.ok('net-up');
      if (a.pinging) a.timer.start('ping');
      phase = 'ping';
    }
    if (phase === 'ping' && seen.includes('TAPWIRE-DONE')) phase = 'done';
  };
  // A control-channel boot: the batch goes in once the guest listens, and its TAPWIRE-APPLIED ends the proof.
  const ended = new AbortController();
  const control = a.control;
  const sender = control === undefined || machine.controlSocket === undefined ? undefined : sendBootBatch(vm, machine.controlSocket, control.lines, ended.signal);
  let controlError: string | undefined;
  void sender?.sent.then((r) => {
    if (E.isLeft(r) && !ended.signal.aborted) {
      controlError = r.left;
      void vm.stop()();
    }
  });
  const proved = await proveGuest(vm, {
    timeoutMs: a.timeoutMs,
    onConsole: advance,
    ...(a.progress === undefined ? {} : { progress: a.progress }),
    ...(a.signal === undefined ? {} : { signal: a.signal }),
    ...(control === undefined ? {} : { done: new RegExp(`TAPWIRE-APPLIED ${control.tag}\\s*\\n`) }),
  })();
  ended.abort();
  sender?.close();
  await refreshed;
  return E.map(
    (proof: Proof): Booted => ({
      argv: argv.right,
      passed: passedFds(p),
      nics: vm.nics.list(),
      proof: control === undefined ? proof : { ...proof, console: podReportOf(proof.console, control.tag) },
      ...(control === undefined
        ? {}
        : { control: { applied: new RegExp(`TAPWIRE-APPLIED ${control.tag}\\b`).test(proof.console), ...(controlError === undefined ? {} : { error: controlError }) } }),
    }),
  )(proved);
};
