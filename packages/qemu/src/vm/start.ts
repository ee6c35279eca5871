// startVm: QEMU running in the pod netns with its NIC fds, handed back while
// it runs (handle.ts). Ready means QMP answered and the VM runs; the NICs'
// PCI addresses are read with query-pci before the handle is returned. Any
// failure on the way leaves no QEMU behind.
import { appendFileSync } from 'node:fs';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { inNetnsArgv, type NetnsHandle } from '@tapwire/sys';
import { abortReason, type NicSpec } from '@tapwire/vm';
import { qmpReady } from '../launch/qmp-ready.js';
import type { QemuError } from '../errors.js';
import { makeFeed } from './feed.js';
import type { NicTable, VmEvent, VmExit, VmHandle } from './handle.js';
import { queryPciFunctions } from './query-pci.js';

export interface StartVmSpec {
  readonly ns: NetnsHandle;
  /** The binary and its arguments: serial console on stdio, QMP listening on qmpSocket. */
  readonly argv: readonly string[];
  readonly qmpSocket: string;
  /** Parent fds the child inherits from fd 3 up (inheritFds(...).inherited): argv names them by those numbers. */
  readonly inherited?: readonly number[];
  /** The NICs argv renders (their ids are the devices' ids): the handle's NIC table. */
  readonly nics?: readonly NicSpec[];
  readonly serialLog?: string;
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
/** QMP events are polled off the client (it keeps them in order) this often. */
const EVENT_POLL_MS = 50;

const lastLines = (text: string, n = 2): string => text.trim().split('\n').slice(-n).join(' ');

const nicTable = (initial: readonly NicSpec[], readPci: VmHandle['nics']['refresh']): NicTable => {
  const nics = new Map(initial.map((n) => [n.id, n]));
  const table: NicTable = {
    list: () => [...nics.values()],
    get: (id) => nics.get(id),
    put: (nic) => {
      nics.set(nic.id, nic);
    },
    remove: (id) => {
      nics.delete(id);
    },
    refresh: readPci,
  };
  return table;
};

// A function, so a check before an await does not narrow `aborted` for the checks after it.
const isAborted = (signal: AbortSignal | undefined): signal is AbortSignal => signal?.aborted === true;

export const startVm =
  (spec: StartVmSpec): TE.TaskEither<QemuError, VmHandle> =>
  async () => {
    if (spec.signal?.aborted === true) return E.left({ _tag: 'Aborted', what: 'starting the VM', reason: abortReason(spec.signal) });
    const [file, ...args] = inNetnsArgv(spec.ns, spec.argv);
    const start = Date.now();
    const child = execa(file ?? 'nsenter', args, {
      // fd i of the child = stdio[i]; execa's types do not list numbers for extra fds.
      stdio: ['ignore', 'pipe', 'pipe', ...(spec.inherited ?? [])] as unknown as ['ignore', 'pipe', 'pipe'],
      reject: false,
      encoding: 'utf8',
      buffer: false,
      // QEMU must not outlive us: killed on every exit path of this process.
      cleanup: true,
      killSignal: 'SIGKILL',
    });
    spec.onSpawned?.();
    const graceDefault = spec.quitGraceMs ?? QUIT_GRACE_MS;
    const marker = spec.marker ?? MARKER;
    const consoleFeed = makeFeed<string>(CONSOLE_CHUNKS_KEPT);
    const eventFeed = makeFeed<VmEvent>();
    let stderr = '';
    let stoppedBy: VmExit['stoppedBy'];
    let line = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (spec.serialLog !== undefined) appendFileSync(spec.serialLog, chunk);
      consoleFeed.push(chunk);
      line += chunk;
      let nl: number;
      while ((nl = line.indexOf('\n')) >= 0) {
        const whole = line.slice(0, nl).replace(/\r$/, '');
        line = line.slice(nl + 1);
        const m = marker.exec(whole);
        if (m !== null) eventFeed.push({ kind: 'console', marker: m[0], line: whole });
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const gone = new AbortController();
    const exited: Promise<VmExit> = child.then(
      (r) => ({ exitCode: r.exitCode, signal: r.signal, stderr, stoppedBy, ms: Date.now() - start }),
      () => ({ exitCode: undefined, signal: undefined, stderr, stoppedBy, ms: Date.now() - start }),
    );
    /** Moves QMP events not yet passed on into the event feed (set once QMP is up). */
    let drainQmp = (): void => undefined;
    void exited.then((exit) => {
      gone.abort('QEMU exited');
      // The events QEMU sent on its way out (SHUTDOWN) come before the exit.
      drainQmp();
      eventFeed.push({ kind: 'exit', exit });
      eventFeed.end();
      consoleFeed.end();
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
      spec.signal?.removeEventListener('abort', onAbort);
      if (isAborted(spec.signal)) return E.left({ _tag: 'Aborted', what: 'starting the VM', reason: abortReason(spec.signal) });
      return byItself
        ? E.left({ _tag: 'VmStartFailed', detail: `QEMU exited (${exit.exitCode === undefined ? (exit.signal ?? '?') : `code ${exit.exitCode}`}) before it was ready`, stderr: lastLines(exit.stderr) })
        : E.left({ _tag: 'VmNotReady', accel: '?', cause: ready.left, stderr: lastLines(exit.stderr) });
    }
    const qmp = ready.right.qmp;
    let seenEvents = 0;
    drainQmp = () => {
      const all = qmp.events();
      for (; seenEvents < all.length; seenEvents++) {
        const event = all[seenEvents];
        if (event !== undefined) eventFeed.push({ kind: 'qmp', event });
      }
    };
    const poll = setInterval(drainQmp, EVENT_POLL_MS);
    void exited.then(() => {
      clearInterval(poll);
      qmp.close();
    });

    const stop =
      (graceMs = graceDefault): TE.TaskEither<QemuError, VmExit> =>
      async () => {
        if (!gone.signal.aborted) {
          stoppedBy ??= 'quit';
          // quit lets QEMU shut down by itself (the serial log flushed, the socket removed).
          if (!qmp.closed()) void qmp.execute('quit', undefined, { timeoutMs: graceMs });
          const timer = setTimeout(() => {
            stoppedBy = 'kill';
            child.kill('SIGKILL');
          }, graceMs);
          await exited;
          clearTimeout(timer);
        }
        spec.signal?.removeEventListener('abort', onAbort);
        return E.right(await exited);
      };

    const withPci = (nics: readonly NicSpec[]): TE.TaskEither<QemuError, readonly NicSpec[]> => async () => {
      const pci = await queryPciFunctions(qmp)();
      if (E.isLeft(pci)) return pci;
      return E.right(
        nics.map((n) => {
          const seen = pci.right.find((p) => p.deviceId === n.id);
          return seen === undefined ? n : { ...n, pciAddress: seen.address };
        }),
      );
    };
    let table: NicTable | undefined;
    const refresh = (): TE.TaskEither<QemuError, readonly NicSpec[]> => async () => {
      const r = await withPci(table?.list() ?? [])();
      if (E.isRight(r)) for (const n of r.right) table?.put(n);
      return r;
    };
    table = nicTable(spec.nics ?? [], refresh);
    // No NIC, nothing to address (a hotplug adds them later and refreshes then).
    const addressed = table.list().length === 0 ? E.right([]) : await refresh()();
    if (E.isLeft(addressed)) {
      await stop()();
      return E.left(addressed.left);
    }
    const pid = child.pid;
    if (pid === undefined) {
      await stop()();
      return E.left({ _tag: 'VmStartFailed', detail: 'no pid for the QEMU process', stderr: lastLines(stderr) });
    }
    return E.right({
      pid,
      version: ready.right.version,
      qmp,
      qmpSocket: spec.qmpSocket,
      console: consoleFeed.feed,
      events: eventFeed.feed,
      nics: table,
      stop,
      exited,
    });
  };
