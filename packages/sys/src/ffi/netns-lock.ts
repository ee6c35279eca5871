// One tapwire process at a time changes a netns. The lock is flock(2) on a
// file named after the netns's identity (nsfs dev and inode, not its name: two
// names, or /proc/PID/ns/net, of one netns share it), so the kernel drops it
// when the holder dies - no stale lock after a crash. The holder writes
// "pid N: what" into the file for a waiting process to report.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { SysError } from '../errors.js';
import type { NetnsHandle } from '../netns.js';
import { errnoOf, fromNodeError } from './errno.js';
import { call } from './libc.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = errnoOf('EAGAIN');

export const DEFAULT_LOCK_DIR = '/run/tapwire/locks';
export const DEFAULT_LOCK_TIMEOUT_MS = 15_000;

export interface NetnsLockOptions {
  /** Directory of the lock files (made 0700 when missing). Default /run/tapwire/locks. */
  readonly dir?: string;
  /** How long to wait for another process's lock before NetnsBusy. Default 15 s. */
  readonly timeoutMs?: number;
}

export interface NetnsLock {
  readonly file: string;
  /** Unlinks the file, then drops the lock; idempotent. */
  readonly release: () => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The lock file of a netns: its nsfs dev and inode, checked against the handle. */
export const netnsLockFile = (ns: NetnsHandle, dir = DEFAULT_LOCK_DIR): E.Either<SysError, string> => {
  try {
    const st = statSync(ns.path);
    if (st.ino !== ns.inode) return E.left({ _tag: 'NetnsChanged', input: ns.spec, path: ns.path, expectedInode: ns.inode, foundInode: st.ino });
    return E.right(join(dir, `net-${st.dev}-${st.ino}.lock`));
  } catch (e) {
    return E.left(fromNodeError('stat', e, (c) => `identifying netns ${ns.spec} (${ns.path}) for its lock: ${c}`));
  }
};

const readHolder = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
};

type Attempt = { readonly _tag: 'Held'; readonly fd: number } | { readonly _tag: 'Busy' };

/** One non-blocking try; a file unlinked by its releasing holder meanwhile counts as busy (retry). */
const tryLock = (file: string): E.Either<SysError, Attempt> => {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch (e) {
    return E.left(fromNodeError('open', e, (c) => `opening lock file ${file}: ${c}`));
  }
  const r = call('flock', (c) => `flock ${file}: ${c}`, fd, LOCK_EX | LOCK_NB);
  if (E.isLeft(r)) {
    closeSync(fd);
    return r.left._tag === 'SyscallFailed' && r.left.errno === EWOULDBLOCK ? E.right({ _tag: 'Busy' }) : r;
  }
  try {
    if (statSync(file).ino === fstatSync(fd).ino) return E.right({ _tag: 'Held', fd });
  } catch {
    // Unlinked by the previous holder between our open and flock.
  }
  closeSync(fd);
  return E.right({ _tag: 'Busy' });
};

const held = (file: string, fd: number, purpose: string): NetnsLock => {
  ftruncateSync(fd, 0);
  writeSync(fd, `pid ${process.pid}: ${purpose}\n`, 0);
  let open = true;
  return {
    file,
    release: () => {
      if (!open) return;
      open = false;
      // Unlink while still holding: a waiter that opened the old file sees it gone and retries.
      try {
        unlinkSync(file);
      } catch {
        // Already gone; nothing to clean.
      }
      closeSync(fd);
    },
  };
};

/** Waits (backing off 5 ms to 200 ms) for the netns's lock; NetnsBusy after the timeout. */
export const lockNetns =
  (ns: NetnsHandle, purpose: string, opts: NetnsLockOptions = {}): TE.TaskEither<SysError, NetnsLock> =>
  async () => {
    const dir = opts.dir ?? DEFAULT_LOCK_DIR;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const file = netnsLockFile(ns, dir);
    if (E.isLeft(file)) return file;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      return E.left(fromNodeError('mkdir', e, (c) => `making lock directory ${dir}: ${c}`));
    }
    const start = Date.now();
    let delay = 5;
    for (;;) {
      const a = tryLock(file.right);
      if (E.isLeft(a)) return a;
      if (a.right._tag === 'Held') return E.right(held(file.right, a.right.fd, purpose));
      const waited = Date.now() - start;
      if (waited >= timeoutMs) return E.left({ _tag: 'NetnsBusy', netns: ns.spec, lockFile: file.right, holder: readHolder(file.right), waitedMs: waited });
      await sleep(Math.min(delay, timeoutMs - waited));
      delay = Math.min(delay * 2, 200);
    }
  };

/** Runs task holding the netns's lock; released whatever the outcome. */
export const withNetnsLock =
  <E1, A>(ns: NetnsHandle, purpose: string, opts: NetnsLockOptions, task: TE.TaskEither<E1, A>): TE.TaskEither<E1 | SysError, A> =>
  async () => {
    const lock = await lockNetns(ns, purpose, opts)();
    if (E.isLeft(lock)) return lock;
    try {
      return await task();
    } finally {
      lock.right.release();
    }
  };
