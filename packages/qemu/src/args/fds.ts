// Where each inherited fd lands in the QEMU child. Node's spawn puts
// stdio[i] at fd i in the child, so the launcher builds
//   stdio = ['ignore', out, err, ...the parent fds in this same order]
// and the numbers below are exactly the ones to render into -netdev.
import * as E from 'fp-ts/lib/Either.js';
import { invalid, type ArgsError } from './errors.js';
import { MAX_QUEUES } from './validate.js';

/** 0, 1 and 2 are stdio. */
export const FIRST_CHILD_FD = 3;

/** What one NIC needs: queue fds (0 for vhost-user and vfio) and whether each queue gets a vhost fd. */
export interface FdNeed {
  readonly queues: number;
  readonly vhost: boolean;
}

export interface FdPositions {
  readonly queueFds: readonly number[];
  /** Empty when vhost is off, else one per queue fd. */
  readonly vhostFds: readonly number[];
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

/**
 * Child fd numbers from 3 upward in a stable order: queue fds of nic 0, vhost
 * fds of nic 0, queue fds of nic 1, ... Contiguous, so the stdio array has no holes.
 */
export const assignFdPositions = (needs: readonly FdNeed[]): E.Either<ArgsError, readonly FdPositions[]> => {
  let next = FIRST_CHILD_FD;
  const out: FdPositions[] = [];
  for (const [i, need] of needs.entries()) {
    const q = need.queues;
    if (!Number.isInteger(q) || q < 0 || q > MAX_QUEUES) {
      return E.left(invalid(`nic #${i}`, 'queues', q, `an integer from 0 to ${MAX_QUEUES}`));
    }
    const queueFds = range(next, q);
    next += q;
    const vhostFds = need.vhost ? range(next, q) : [];
    next += vhostFds.length;
    out.push({ queueFds, vhostFds });
  }
  return E.right(out);
};

/** How many stdio slots the child needs: one past the highest assigned fd. */
export const childFdSlots = (positions: readonly FdPositions[]): number =>
  positions.reduce((n, p) => n + p.queueFds.length + p.vhostFds.length, FIRST_CHILD_FD);
