// Runs synchronous code with the calling thread inside another network
// namespace. setns(CLONE_NEWNET) moves only the calling thread; everything
// that thread creates meanwhile (sockets, tun fds, child processes!) belongs
// to the target netns, so fn must be synchronous: no await, no callback runs
// on this thread until we are back.
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import type { NetnsHandle } from '../netns.js';
import { fromNodeError } from './errno.js';
import { call } from './libc.js';

const CLONE_NEWNET = 0x40000000;
const THREAD_NETNS = '/proc/thread-self/ns/net';

const openNs = (path: string, spec: string): E.Either<SysError, number> => {
  try {
    return E.right(openSync(path, 'r'));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') return E.left({ _tag: 'NetnsNotFound', input: spec, path });
    return E.left(fromNodeError('open', e, (c) => `opening ${path}: ${c}`));
  }
};

/**
 * The thread could not go home: every later socket, tun fd or spawned child
 * of this thread would silently live in a foreign netns. No caller can
 * recover from that, so stop the process.
 */
const cannotRestore = (err: SysError): never => {
  const detail = err._tag === 'SyscallFailed' ? `${err.code}: ${err.detail}` : err._tag;
  writeSync(2, `tapwire: fatal: could not return the thread to its network namespace (${detail})\n`);
  process.abort();
};

export function withNetnsSync<T>(ns: NetnsHandle, fn: () => T): E.Either<SysError, T> {
  const home = openNs(THREAD_NETNS, THREAD_NETNS);
  if (E.isLeft(home)) return home;
  try {
    const target = openNs(ns.path, ns.spec);
    if (E.isLeft(target)) return target;
    try {
      const { ino } = fstatSync(target.right);
      // The name may now point at a namespace created after resolveNetns.
      if (ino !== ns.inode) return E.left({ _tag: 'NetnsChanged', input: ns.spec, path: ns.path, expectedInode: ns.inode, foundInode: ino });
      if (fstatSync(home.right).ino === ino) return E.right(fn());
      const entered = call('setns', (c) =>
        c === 'EPERM' ? `entering netns ${ns.spec} needs CAP_SYS_ADMIN` : `entering netns ${ns.spec} (${ns.path})`,
        target.right, CLONE_NEWNET);
      if (E.isLeft(entered)) return entered;
      try {
        return E.right(fn());
      } finally {
        const back = call('setns', () => 'returning to the original netns', home.right, CLONE_NEWNET);
        if (E.isLeft(back)) cannotRestore(back.left);
      }
    } finally {
      closeSync(target.right);
    }
  } finally {
    closeSync(home.right);
  }
}

/** withNetnsSync for an fn that itself can fail. */
export const inNetnsSync = <T>(ns: NetnsHandle, fn: () => E.Either<SysError, T>): E.Either<SysError, T> =>
  E.flatten(withNetnsSync(ns, fn));
