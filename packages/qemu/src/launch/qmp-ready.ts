// A QEMU we started is ready when it answers on QMP and says its guest runs.
// Until then a console that stays quiet could be a slow guest or a QEMU that
// is wedged; QMP tells the two apart within seconds.
import * as E from 'fp-ts/lib/Either.js';
import { connectQmp, queryStatus, type Qmp, type QmpError, type QmpStatus } from './qmp.js';

export interface QmpReady {
  readonly qmp: Qmp;
  /** From the greeting, e.g. "7.2.22". */
  readonly version: string;
  /** From query-status: "running". */
  readonly status: string;
}

/** Connects and runs query-status, all within `withinMs`; closes the connection on failure. */
export const qmpReady = async (socket: string, withinMs: number, signal?: AbortSignal): Promise<E.Either<QmpError, QmpReady>> => {
  const deadline = Date.now() + withinMs;
  const qmp = await connectQmp(socket, withinMs, signal === undefined ? {} : { signal });
  if (E.isLeft(qmp)) return qmp;
  const status = await queryStatus(qmp.right, { timeoutMs: Math.max(1, deadline - Date.now()) });
  const ready = E.chain((s: QmpStatus): E.Either<QmpError, QmpReady> =>
    s.running ? E.right({ qmp: qmp.right, version: qmp.right.version, status: s.status }) : E.left({ _tag: 'QmpNotRunning', socket, status: s.status }),
  )(status);
  if (E.isLeft(ready)) qmp.right.close();
  return ready;
};
