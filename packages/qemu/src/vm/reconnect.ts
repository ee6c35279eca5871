// reconnectVm: a handle on a VM this process did not start - a runtime that
// restarted finds its VMs again from saved state (@tapwire/vm NicState's
// vm: { pid, qmpSocket }). QEMU serves one QMP client at a time, so the old
// connection must be gone (it is, when its process is). The console is read
// from the serial log, if given, from its current end; the exit is noticed
// by polling the pid (not our child: no exit code).
import { statSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { NicSpec } from '@tapwire/vm';
import { qmpReady } from '../launch/qmp-ready.js';
import type { QemuError } from '../errors.js';
import { consoleSink, followFile } from './console-sink.js';
import { makeFeed } from './feed.js';
import type { VmEvent, VmExit, VmHandle } from './handle.js';
import { liveHandle, stoppedAfter } from './live.js';
import { processAlive } from '@tapwire/sys';

export interface ReconnectVmSpec {
  readonly pid: number;
  readonly qmpSocket: string;
  /** The NICs saved with the VM: the handle's NIC table (addresses re-read with query-pci). */
  readonly nics?: readonly NicSpec[];
  /** The VM's serial log: followed from its current end for console chunks and markers. */
  readonly serialLog?: string;
  readonly readyWithinMs?: number;
  readonly quitGraceMs?: number;
  readonly marker?: RegExp;
}

const PID_POLL_MS = 200;


const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

export const reconnectVm =
  (spec: ReconnectVmSpec): TE.TaskEither<QemuError, VmHandle> =>
  async () => {
    if (!processAlive(spec.pid)) return E.left({ _tag: 'VmStartFailed', detail: `no process ${spec.pid}: the VM is gone`, stderr: '' });
    const start = Date.now();
    const consoleFeed = makeFeed<string>(1_000);
    const eventFeed = makeFeed<VmEvent>();
    const gone = new AbortController();
    let stoppedBy: VmExit['stoppedBy'];
    let pidPoll: NodeJS.Timeout | undefined;
    const exited = new Promise<VmExit>((resolve) => {
      const timer = (pidPoll = setInterval(() => {
        if (processAlive(spec.pid)) return;
        clearInterval(timer);
        resolve({ exitCode: undefined, signal: undefined, stderr: '', stoppedBy, ms: Date.now() - start });
      }, PID_POLL_MS));
      timer.unref();
    });
    const unfollow = spec.serialLog === undefined ? undefined : followFile(spec.serialLog, sizeOf(spec.serialLog), consoleSink(consoleFeed, eventFeed, spec.marker ?? /TAPWIRE-[A-Z0-9-]+/));
    void exited.then(() => {
      unfollow?.();
      gone.abort('QEMU exited');
    });
    const ready = await qmpReady(spec.qmpSocket, spec.readyWithinMs ?? 10_000, gone.signal);
    if (E.isLeft(ready)) {
      // Not ours to kill: a VM we cannot talk to may still be someone's.
      clearInterval(pidPoll);
      unfollow?.();
      consoleFeed.end();
      eventFeed.end();
      return E.left({ _tag: 'VmNotReady', accel: '?', cause: ready.left, stderr: '' });
    }
    return liveHandle({
      pid: spec.pid,
      qmp: ready.right.qmp,
      version: ready.right.version,
      qmpSocket: spec.qmpSocket,
      consoleFeed,
      eventFeed,
      exited,
      gone: gone.signal,
      kill: () => {
        if (processAlive(spec.pid)) process.kill(spec.pid, 'SIGKILL');
      },
      stoppedBy: (by) => {
        stoppedBy = stoppedAfter(stoppedBy, by);
      },
      quitGraceMs: spec.quitGraceMs ?? 2_000,
      nics: spec.nics ?? [],
    });
  };
