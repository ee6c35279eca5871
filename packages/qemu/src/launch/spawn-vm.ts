// Runs one QEMU process inside the pod netns with its queue fds at fixed
// positions, the serial console piped to us (and a log), QMP on a socket.
// Whatever happens - exit, error, timeout, SIGINT/SIGTERM, no QMP - the
// process is gone when this resolves.
import { appendFileSync } from 'node:fs';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import type { NetnsHandle } from '@tapwire/sys';
import { inNetnsArgv } from '@tapwire/sys';
import type { Qmp, QmpError } from './qmp.js';
import { qmpReady } from './qmp-ready.js';

/** What QMP said once QEMU was up: its version and the VM's status. */
export type QmpReadiness = E.Either<QmpError, { readonly version: string; readonly status: string }>;

export interface VmRun {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** Everything the guest wrote on its serial console. */
  readonly console: string;
  readonly stderr: string;
  /** Why we stopped it, when we did ('unready': QMP never answered, or not with "running"). */
  readonly stoppedBecause: 'done' | 'timeout' | 'signal' | 'stalled' | 'unready' | undefined;
  /** undefined without the qmp option, or when QEMU was gone before QMP settled. */
  readonly qmp: QmpReadiness | undefined;
  readonly ms: number;
}

export interface SpawnVmQmp {
  /** The socket argv makes QEMU listen on for QMP. */
  readonly socket: string;
  /** QEMU is stopped as 'unready' when QMP has not answered query-status with running by then. */
  readonly readyWithinMs: number;
  /** When we stop QEMU, `quit` gets this long before SIGKILL. */
  readonly quitGraceMs: number;
  readonly onReady?: (r: QmpReadiness) => void;
}

export interface SpawnVmOptions {
  readonly ns: NetnsHandle;
  /** qemu-system-x86_64 and its arguments (serial on stdio). */
  readonly argv: readonly string[];
  /** fds[i] is passed as fd 3+i in QEMU; argv must refer to them by those numbers. */
  readonly fds: readonly number[];
  readonly timeoutMs: number;
  readonly serialLog?: string;
  /** Resolves the run early (QEMU is stopped) once the console says so. */
  readonly doneWhen?: (console: string) => boolean;
  /** Stop as 'stalled' when the console has not matched this by then (e.g. a hung KVM). */
  readonly progress?: { readonly marker: RegExp; readonly withinMs: number };
  readonly onConsole?: (chunk: string) => void;
  /** Called once QEMU has been forked with the fds: the parent's copies may be closed then. */
  readonly onSpawned?: () => void;
  /** Wait for QMP readiness, and stop QEMU with a QMP quit before resorting to SIGKILL. */
  readonly qmp?: SpawnVmQmp;
}

/** How long a QMP failure waits for QEMU's own exit before blaming QMP. */
const EXIT_GRACE_MS = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const spawnVm = async (o: SpawnVmOptions): Promise<VmRun> => {
  const [file, ...args] = inNetnsArgv(o.ns, o.argv);
  const start = Date.now();
  const child = execa(file ?? 'nsenter', args, {
    // execa passes integer fds through to node's spawn (fd i of the child = stdio[i]);
    // its types do not list numbers for extra fds, so the array is cast.
    stdio: ['ignore', 'pipe', 'pipe', ...o.fds] as unknown as ['ignore', 'pipe', 'pipe'],
    reject: false,
    encoding: 'utf8',
    buffer: false,
    // QEMU must not outlive us: if node dies, its stdin/pipes close, but a
    // SIGKILL of node would still orphan it; we kill it on every exit path.
    cleanup: true,
    killSignal: 'SIGKILL',
  });
  o.onSpawned?.();
  let consoleText = '';
  let stderr = '';
  let stoppedBecause: VmRun['stoppedBecause'];
  let qmp: Qmp | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: NonNullable<VmRun['stoppedBecause']>) => {
    const first = stoppedBecause === undefined;
    if (first) stoppedBecause = why;
    // doneWhen matches again on every later chunk; only a signal hurries a stop along.
    else if (why !== 'signal') return;
    if (!first || qmp === undefined || qmp.closed() || o.qmp === undefined) {
      child.kill('SIGKILL');
      return;
    }
    // quit lets QEMU shut down by itself (the serial log flushed, the socket removed).
    void qmp.execute('quit');
    killTimer = setTimeout(() => child.kill('SIGKILL'), o.qmp.quitGraceMs);
  };
  const gone = new AbortController();
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  void exited.then(() => gone.abort('QEMU exited'));
  let readiness: QmpReadiness | undefined;
  const ready =
    o.qmp === undefined
      ? Promise.resolve()
      : qmpReady(o.qmp.socket, o.qmp.readyWithinMs, gone.signal).then(async (r) => {
          if (E.isRight(r)) qmp = r.right.qmp;
          // A dying QEMU closes its socket before node sees the exit; that
          // exit (code, stderr) says more than the QMP failure it caused.
          if (E.isLeft(r)) await Promise.race([exited, sleep(EXIT_GRACE_MS)]);
          if (E.isLeft(r) && gone.signal.aborted) return;
          readiness = E.map(({ version, status }: { version: string; status: string }) => ({ version, status }))(r);
          o.qmp?.onReady?.(readiness);
          if (E.isLeft(r)) stop('unready');
        });
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    consoleText += chunk;
    if (o.serialLog !== undefined) appendFileSync(o.serialLog, chunk);
    o.onConsole?.(chunk);
    if (o.doneWhen?.(consoleText) === true) stop('done');
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => stop('timeout'), o.timeoutMs);
  const progressTimer =
    o.progress === undefined
      ? undefined
      : setTimeout(() => {
          if (o.progress !== undefined && !o.progress.marker.test(consoleText)) stop('stalled');
        }, o.progress.withinMs);
  const onSignal = () => stop('signal');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await child;
    await ready;
    return {
      exitCode: r.exitCode,
      signal: r.signal,
      console: consoleText,
      stderr,
      stoppedBecause,
      qmp: readiness,
      ms: Date.now() - start,
    };
  } finally {
    qmp?.close();
    clearTimeout(killTimer);
    clearTimeout(timer);
    if (progressTimer !== undefined) clearTimeout(progressTimer);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
};
