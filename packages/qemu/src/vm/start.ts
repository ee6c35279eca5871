// startVm: QEMU running in the pod netns with its NIC fds, handed back while
// it runs (handle.ts). Ready means QMP answered and the VM runs; the NICs'
// PCI addresses are read with query-pci before the handle is returned. Any
// failure on the way leaves no QEMU behind.
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { inNetnsArgv, type NetnsHandle } from '@tapwire/sys';
import { abortReason, type NicSpec } from '@tapwire/vm';
import { qmpReady } from '../launch/qmp-ready.js';
import type { QemuError } from '../errors.js';
import { makeFeed } from './feed.js';
import type { VmEvent, VmExit, VmHandle } from './handle.js';
import { consoleSink, followFile } from './console-sink.js';
import { liveHandle, stoppedAfter } from './live.js';

export interface StartVmSpec {
  readonly ns: NetnsHandle;
  /** The binary and its arguments: serial console on stdio, QMP listening on qmpSocket. */
  readonly argv: readonly string[];
  readonly qmpSocket: string;
  /** Parent fds the child inherits from fd 3 up (inheritFds(...).inherited): argv names them by those numbers. */
  readonly inherited?: readonly number[];
  /** The NICs argv renders (their ids are the devices' ids): the handle's NIC table. */
  readonly nics?: readonly NicSpec[];
  /**
   * The file argv's serial chardev logs to (logfile=). Read for the console
   * when the VM outlives us; otherwise informational (argv writes it).
   */
  readonly serialLog?: string;
  /**
   * Let QEMU outlive this process (a runtime that restarts while its VMs run):
   * its own process group, not killed when we exit, stdout/stderr not piped
   * (the console is read from serialLog, which it then needs). Find it again
   * with reconnectVm.
   */
  readonly outlive?: boolean;
  /** QEMU that has not answered QMP with "running" by then is stopped (default 10 s). */
  readonly readyWithinMs?: number;
  /** How long a QMP quit gets before SIGKILL (default 2 s). */
  readonly quitGraceMs?: number;
  /** Console lines matching this become events (default the guest's TAPWIRE-* reports). */
  readonly marker?: RegExp;
  /** Aborting before ready fails the start (QEMU stopped); after, it stops the VM. */
  readonly signal?: AbortSignal;
  /** Called once QEMU has been forked with the fds: the parent's copies may be closed then. */
  readonly onSpawned?: () => void;
}

const READY_WITHIN_MS = 10_000;
const QUIT_GRACE_MS = 2_000;
const MARKER = /TAPWIRE-[A-Z0-9-]+/;
/** The console chunks a handle keeps for late readers (chunks are at most a pipe read, 64 KiB). */
const CONSOLE_CHUNKS_KEPT = 1_000;
/** How long a QMP failure waits for QEMU's own exit before blaming QMP. */
const EXIT_GRACE_MS = 500;

const lastLines = (text: string, n = 2): string => text.trim().split('\n').slice(-n).join(' ');


// A function, so a check before an await does not narrow `aborted` for the checks after it.
const isAborted = (signal: AbortSignal | undefined): signal is AbortSignal => signal?.aborted === true;

export const startVm =
  (spec: StartVmSpec): TE.TaskEither<QemuError, VmHandle> =>
  async () => {
    if (spec.signal?.aborted === true) return E.left({ _tag: 'Aborted', what: 'starting the VM', reason: abortReason(spec.signal) });
    const outlive = spec.outlive === true;
    if (outlive && spec.serialLog === undefined) return E.left({ _tag: 'VmStartFailed', detail: 'a VM that outlives us needs serialLog (its console is read from there)', stderr: '' });
    const [file, ...args] = inNetnsArgv(spec.ns, spec.argv);
    const start = Date.now();
    const child = execa(file ?? 'nsenter', args, {
      // fd i of the child = stdio[i]; execa's types do not list numbers for extra fds.
      stdio: ['ignore', outlive ? 'ignore' : 'pipe', outlive ? 'ignore' : 'pipe', ...(spec.inherited ?? [])] as unknown as ['ignore', 'pipe', 'pipe'],
      reject: false,
      encoding: 'utf8',
      buffer: false,
      // Unless asked to outlive us, QEMU is killed on every exit path of this process.
      cleanup: !outlive,
      detached: outlive,
      killSignal: 'SIGKILL',
    });
    spec.onSpawned?.();
    const marker = spec.marker ?? MARKER;
    const consoleFeed = makeFeed<string>(CONSOLE_CHUNKS_KEPT);
    const eventFeed = makeFeed<VmEvent>();
    let stderr = '';
    let stoppedBy: VmExit['stoppedBy'];
    const sink = consoleSink(consoleFeed, eventFeed, marker);
    // An outliving QEMU writes no pipe of ours: its console is its serial log.
    const unfollow = outlive && spec.serialLog !== undefined ? followFile(spec.serialLog, 0, sink) : undefined;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', sink);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const gone = new AbortController();
    const exited: Promise<VmExit> = child.then(
      (r) => ({ exitCode: r.exitCode, signal: r.signal, stderr, stoppedBy, ms: Date.now() - start }),
      () => ({ exitCode: undefined, signal: undefined, stderr, stoppedBy, ms: Date.now() - start }),
    );
    void exited.then(() => {
      unfollow?.();
      gone.abort('QEMU exited');
    });
    const kill = () => {
      stoppedBy ??= 'kill';
      child.kill('SIGKILL');
    };
    const onAbort = () => kill();
    spec.signal?.addEventListener('abort', onAbort, { once: true });

    const ready = await qmpReady(spec.qmpSocket, spec.readyWithinMs ?? READY_WITHIN_MS, gone.signal);
    if (E.isLeft(ready)) {
      // A dying QEMU closes its socket before node sees the exit; that exit
      // (code, stderr) says more than the QMP failure it caused.
      await Promise.race([exited, new Promise((r) => setTimeout(r, EXIT_GRACE_MS))]);
      const byItself = gone.signal.aborted && stoppedBy === undefined;
      kill();
      const exit = await exited;
      eventFeed.end();
      consoleFeed.end();
      spec.signal?.removeEventListener('abort', onAbort);
      if (isAborted(spec.signal)) return E.left({ _tag: 'Aborted', what: 'starting the VM', reason: abortReason(spec.signal) });
      return byItself
        ? E.left({ _tag: 'VmStartFailed', detail: `QEMU exited (${exit.exitCode === undefined ? (exit.signal ?? '?') : `code ${exit.exitCode}`}) before it was ready`, stderr: lastLines(exit.stderr) })
        : E.left({ _tag: 'VmNotReady', accel: '?', cause: ready.left, stderr: lastLines(exit.stderr) });
    }
    const pid = child.pid;
    if (pid === undefined) {
      kill();
      return E.left({ _tag: 'VmStartFailed', detail: 'no pid for the QEMU process', stderr: lastLines(stderr) });
    }
    if (spec.outlive === true) child.unref();
    const handle = await liveHandle({
      pid,
      qmp: ready.right.qmp,
      version: ready.right.version,
      qmpSocket: spec.qmpSocket,
      consoleFeed,
      eventFeed,
      exited,
      gone: gone.signal,
      kill: () => child.kill('SIGKILL'),
      stoppedBy: (by) => {
        stoppedBy = stoppedAfter(stoppedBy, by);
      },
      quitGraceMs: spec.quitGraceMs ?? QUIT_GRACE_MS,
      nics: spec.nics ?? [],
    });
    void exited.then(() => spec.signal?.removeEventListener('abort', onAbort));
    return handle;
  };
