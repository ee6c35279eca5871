// Opening the queue fds a VM would get, then closing them: the same in-process
// ioctls for every method (no command-line tool hands a tap fd to a VM).
import * as E from 'fp-ts/lib/Either.js';
import { closeFds, describeSysError, openTapQueues, type NetnsHandle } from '@tapwire/sys';

export interface TapToOpen {
  readonly name: string;
  readonly queues: number;
  readonly multiQueue: boolean;
}

/** Opens every queue of every tap, closes them all; returns how many were open. Throws on a failure, fds closed. */
export const openAndCloseQueues = (ns: NetnsHandle, taps: readonly TapToOpen[]): number => {
  const fds: number[] = [];
  try {
    for (const tap of taps) {
      const opened = openTapQueues(ns, tap.name, { queues: tap.queues, multiQueue: tap.multiQueue, vnetHdr: true });
      if (E.isLeft(opened)) throw new Error(`opening ${tap.name}: ${describeSysError(opened.left)}`);
      fds.push(...opened.right);
    }
    return fds.length;
  } finally {
    const closed = closeFds(fds);
    if (E.isLeft(closed)) throw new Error(`closing tap fds: ${describeSysError(closed.left)}`);
  }
};
