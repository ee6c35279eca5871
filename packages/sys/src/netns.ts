import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from './errors.js';
import { nsTypeOfFd } from './ffi/nstype.js';

/** A resolved, verified network namespace: a path that opens as `net:[inode]`. */
export interface NetnsHandle {
  /** What the user typed: a name, a path or pid:N. */
  readonly spec: string;
  readonly path: string;
  readonly inode: number;
}

const NETNS_RUN_DIR = '/var/run/netns';

/** Maps a user's netns spec to a path, without touching the filesystem. */
export const netnsPath = (spec: string): E.Either<SysError, string> => {
  if (spec.length === 0) {
    return E.left({ _tag: 'BadNetnsSpec', input: spec, expected: 'a netns name, a path, or pid:N' });
  }
  if (spec.startsWith('pid:')) {
    const pid = spec.slice(4);
    return /^[1-9][0-9]{0,9}$/.test(pid)
      ? E.right(`/proc/${pid}/ns/net`)
      : E.left({ _tag: 'BadNetnsSpec', input: spec, expected: 'pid:N with N a positive process id' });
  }
  if (spec.includes('/')) return E.right(spec);
  if (spec === '.' || spec === '..') {
    return E.left({ _tag: 'BadNetnsSpec', input: spec, expected: 'a netns name other than . and ..' });
  }
  return E.right(`${NETNS_RUN_DIR}/${spec}`);
};

const CAP_SYS_ADMIN_BIT = 21n;

/** Entering any netns (setns, nsenter) needs CAP_SYS_ADMIN in the caller. */
export const hasCapSysAdmin = (): boolean => {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    return m?.[1] !== undefined && ((BigInt(`0x${m[1]}`) >> CAP_SYS_ADMIN_BIT) & 1n) === 1n;
  } catch {
    return false;
  }
};

const errnoCode = (e: unknown): string =>
  typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'EUNKNOWN';

/**
 * Resolves and checks a netns spec: it must exist, open, and be an nsfs file
 * of type net (a regular file or a mount namespace is refused by name).
 */
export const resolveNetns = (spec: string): E.Either<SysError, NetnsHandle> =>
  E.chain((path: string): E.Either<SysError, NetnsHandle> => {
    try {
      statSync(path);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EACCES') {
        return E.left({ _tag: 'NetnsPermission', input: spec, path, capability: 'CAP_SYS_PTRACE', detail: 'cannot look up the path' });
      }
      return E.left({ _tag: 'NetnsNotFound', input: spec, path });
    }
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EACCES' || code === 'EPERM') {
        return E.left({
          _tag: 'NetnsPermission',
          input: spec,
          path,
          capability: 'CAP_SYS_PTRACE',
          detail: "opening another user's namespace needs ptrace access to its process",
        });
      }
      if (code === 'EISDIR') return E.left({ _tag: 'NotANetns', input: spec, path, found: 'a directory' });
      return E.left({ _tag: 'NetnsNotFound', input: spec, path });
    }
    // readlink(/proc/self/fd/N) says net:[ino] only for /proc/PID/ns/net; a
    // bind mount like /run/netns/NAME reads back as its path, so ask the kernel.
    let nsType: E.Either<SysError, string | undefined>;
    let inode: number;
    let isDirectory: boolean;
    try {
      // A directory opens read-only without complaint; it is no namespace either.
      const st = fstatSync(fd);
      inode = st.ino;
      isDirectory = st.isDirectory();
      nsType = isDirectory ? E.right(undefined) : nsTypeOfFd(fd);
    } finally {
      closeSync(fd);
    }
    if (isDirectory) return E.left({ _tag: 'NotANetns', input: spec, path, found: 'a directory' });
    if (E.isLeft(nsType)) return nsType;
    if (nsType.right !== 'net') {
      return E.left({
        _tag: 'NotANetns',
        input: spec,
        path,
        found: nsType.right === undefined ? 'a regular file, not an nsfs file' : `a ${nsType.right} namespace`,
      });
    }
    if (!hasCapSysAdmin()) {
      return E.left({
        _tag: 'NetnsPermission',
        input: spec,
        path,
        capability: 'CAP_SYS_ADMIN',
        detail: 'entering a network namespace (setns) needs it; run as root',
      });
    }
    return E.right({ spec, path, inode });
  })(netnsPath(spec));
