// QMP to a test's own QEMU: the product client (launch/qmp.ts), giving up as
// soon as that QEMU exits, and throwing with QEMU's stderr where the product
// returns a Left - in a test, either way is a failure to show.
import * as E from 'fp-ts/lib/Either.js';
import { connectQmp, describeQmpError, type QmpError } from '../../launch/qmp.js';
import type { QemuProcess } from './qemu-process.js';

export interface TestQmp {
  /** Resolves with `return`; throws on any QmpError. */
  readonly execute: (command: string, args?: Record<string, unknown>) => Promise<unknown>;
  readonly close: () => void;
}

export const connectTestQmp = async (path: string, qemu: QemuProcess, timeoutMs: number): Promise<TestQmp> => {
  const gone = new AbortController();
  void qemu.exited.then(() => gone.abort('QEMU exited'));
  const orThrow = <A>(r: E.Either<QmpError, A>): A => {
    if (E.isLeft(r)) throw new Error(`${describeQmpError(r.left)}; QEMU stderr: ${qemu.stderr()}`);
    return r.right;
  };
  const qmp = orThrow(await connectQmp(path, timeoutMs, { signal: gone.signal }));
  return { execute: async (command, args) => orThrow(await qmp.execute(command, args)), close: qmp.close };
};
