// The handle over a VM whose QMP is ready, however we came to it (we started
// it: start.ts; a restarted runtime found it again: reconnect.ts). The caller
// supplies how the process ends (exited) and how to kill it.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { NicSpec } from '@tapwire/vm';
import type { QemuError } from '../errors.js';
import type { Qmp } from '../launch/qmp.js';
import type { FeedWriter } from './feed.js';
import type { NicTable, VmEvent, VmExit, VmHandle } from './handle.js';
import { queryPciFunctions } from './query-pci.js';

/** QMP events are polled off the client (it keeps them in order) this often. */
const EVENT_POLL_MS = 50;

export interface LiveVm {
  readonly pid: number;
  readonly qmp: Qmp;
  readonly version: string;
  readonly qmpSocket: string;
  readonly consoleFeed: FeedWriter<string>;
  readonly eventFeed: FeedWriter<VmEvent>;
  readonly exited: Promise<VmExit>;
  /** Aborted once the process is gone. */
  readonly gone: AbortSignal;
  readonly kill: () => void;
  /** Records who stopped it, once (quit; then kill overrides when the grace ran out). */
  readonly stoppedBy: (by: 'quit' | 'kill') => void;
  readonly quitGraceMs: number;
  readonly nics: readonly NicSpec[];
}

/** Who stopped the VM after `by` stopped it too: the first one stays, except that kill overrides quit (its grace ran out). */
export const stoppedAfter = (current: VmExit['stoppedBy'], by: 'quit' | 'kill'): 'quit' | 'kill' => (by === 'kill' ? 'kill' : (current ?? by));

const nicTable = (initial: readonly NicSpec[], refresh: NicTable['refresh']): { table: NicTable; put: (n: NicSpec) => void } => {
  const nics = new Map(initial.map((n) => [n.id, n]));
  const put = (nic: NicSpec) => {
    nics.set(nic.id, nic);
  };
  return {
    put,
    table: {
      list: () => [...nics.values()],
      get: (id) => nics.get(id),
      put,
      remove: (id) => {
        nics.delete(id);
      },
      refresh,
    },
  };
};

/** Builds the handle; with NICs, reads their PCI addresses first (Left: QEMU is stopped). */
export const liveHandle = async (v: LiveVm): Promise<E.Either<QemuError, VmHandle>> => {
  let seenEvents = 0;
  const drainQmp = () => {
    const all = v.qmp.events();
    for (; seenEvents < all.length; seenEvents++) {
      const event = all[seenEvents];
      if (event !== undefined) v.eventFeed.push({ kind: 'qmp', event });
    }
  };
  const poll = setInterval(drainQmp, EVENT_POLL_MS);
  poll.unref();
  void v.exited.then((exit) => {
    clearInterval(poll);
    // The events QEMU sent on its way out (SHUTDOWN) come before the exit.
    drainQmp();
    v.qmp.close();
    v.eventFeed.push({ kind: 'exit', exit });
    v.eventFeed.end();
    v.consoleFeed.end();
  });

  const stop =
    (graceMs = v.quitGraceMs): TE.TaskEither<QemuError, VmExit> =>
    async () => {
      if (!v.gone.aborted) {
        v.stoppedBy('quit');
        // quit lets QEMU shut down by itself (the serial log flushed, the socket removed).
        if (!v.qmp.closed()) void v.qmp.execute('quit', undefined, { timeoutMs: Math.max(1, graceMs) });
        const timer = setTimeout(() => {
          v.stoppedBy('kill');
          v.kill();
        }, graceMs);
        await v.exited;
        clearTimeout(timer);
      }
      return E.right(await v.exited);
    };

  let current: ReturnType<typeof nicTable> | undefined;
  const refresh = (): TE.TaskEither<QemuError, readonly NicSpec[]> => async () => {
    const pci = await queryPciFunctions(v.qmp)();
    if (E.isLeft(pci)) return pci;
    const nics = (current?.table.list() ?? []).map((n) => {
      const seen = pci.right.find((p) => p.deviceId === n.id);
      return seen === undefined ? n : { ...n, pciAddress: seen.address };
    });
    for (const n of nics) current?.put(n);
    return E.right(nics);
  };
  current = nicTable(v.nics, refresh);
  // No NIC, nothing to address (a hotplug adds them later and refreshes then).
  const addressed = v.nics.length === 0 ? E.right([]) : await refresh()();
  if (E.isLeft(addressed)) {
    await stop()();
    return E.left(addressed.left);
  }
  return E.right({
    pid: v.pid,
    version: v.version,
    qmp: v.qmp,
    qmpSocket: v.qmpSocket,
    console: v.consoleFeed.feed,
    events: v.eventFeed.feed,
    nics: current.table,
    stop,
    exited: v.exited,
  });
};
