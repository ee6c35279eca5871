import { closeSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { fromNodeError } from './errno.js';

/** Closes every fd, also after a failure; the first failure is returned. */
export const closeFds = (fds: readonly number[]): E.Either<SysError, void> => {
  let first: SysError | undefined;
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch (e) {
      first ??= fromNodeError('close', e, (c) => `closing fd ${fd}: ${c}`);
    }
  }
  return first === undefined ? E.right(undefined) : E.left(first);
};

/** Cleanup on an error path: the error being returned matters more than a close failure. */
export const closeAll = (fds: readonly number[]): void => {
  closeFds(fds);
};

/** Linux's tun and macvtap drivers cap a device at MAX_TAP_QUEUES = 256 queues: the one constant every layer uses. */
export const MAX_QUEUES = 256;

export const checkQueues = (what: string, queues: number): E.Either<SysError, number> =>
  Number.isInteger(queues) && queues >= 1 && queues <= MAX_QUEUES
    ? E.right(queues)
    : E.left({ _tag: 'BadInput', what, input: String(queues), expected: `an integer from 1 to ${MAX_QUEUES}` });
