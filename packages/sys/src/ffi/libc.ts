// The handful of libc calls Node has no binding for, loaded through koffi on
// first use (importing @tapwire/sys never touches libc). Every wrapper turns
// "-1 and errno" into a SyscallFailed so callers never read errno themselves.
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { syscallFailed } from './errno.js';
import { koffi } from './koffi.js';

/** int-returning libc functions with integer, string, Buffer or pointer arguments. */
type NativeFn = (...args: unknown[]) => number;

interface Libc {
  readonly setns: NativeFn;
  readonly socket: NativeFn;
  readonly ioctl: NativeFn;
  readonly close: NativeFn;
  readonly fsopen: NativeFn;
  readonly fsconfig: NativeFn;
  readonly fsmount: NativeFn;
  readonly mknodat: NativeFn;
  readonly unlinkat: NativeFn;
  readonly flock: NativeFn;
}

let loaded: E.Either<SysError, Libc> | undefined;

const load = (): E.Either<SysError, Libc> => {
  try {
    const lib = koffi().load('libc.so.6');
    // ioctl is variadic in C; on the Linux ABIs koffi supports, one integer or
    // pointer variadic argument is passed exactly like a fixed one.
    return E.right({
      setns: lib.func('int setns(int fd, int nstype)'),
      socket: lib.func('int socket(int domain, int type, int protocol)'),
      ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
      close: lib.func('int close(int fd)'),
      // New mount API (Linux 5.2, glibc 2.36): detached mounts reachable only
      // through their fd, see detached-mount.ts.
      fsopen: lib.func('int fsopen(const char *fsname, unsigned int flags)'),
      fsconfig: lib.func('int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)'),
      fsmount: lib.func('int fsmount(int fd, unsigned int flags, unsigned int attr_flags)'),
      mknodat: lib.func('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)'),
      unlinkat: lib.func('int unlinkat(int dirfd, const char *path, int flags)'),
      // Advisory whole-file locks that the kernel drops when the process dies (netns-lock.ts).
      flock: lib.func('int flock(int fd, int operation)'),
    } as Libc);
  } catch (e) {
    return E.left({ _tag: 'FfiUnavailable', detail: e instanceof Error ? e.message : String(e) });
  }
};

export const libc = (): E.Either<SysError, Libc> => (loaded ??= load());

/**
 * Calls one libc function; a negative result is a SyscallFailed carrying the
 * errno koffi saved right after the call. `detail` says what we were doing.
 */
export const call = (name: keyof Libc, detail: (code: string) => string, ...args: unknown[]): E.Either<SysError, number> =>
  E.chain((c: Libc): E.Either<SysError, number> => {
    const r = c[name](...args);
    return r < 0 ? E.left(syscallFailed(name, koffi().errno(), detail)) : E.right(r);
  })(libc());

/** Closes an fd made by libc (socket, fsopen, fsmount); errors are irrelevant on cleanup paths. */
export const closeQuietly = (fd: number): void => {
  const c = libc();
  if (E.isRight(c)) c.right.close(fd);
};

/** Stable native memory (koffi.alloc) for structs the kernel reaches through a pointer. */
export const allocBytes = (size: number): { readonly ptr: unknown; readonly bytes: Buffer; readonly address: bigint } => {
  const k = koffi();
  const ptr = k.alloc('uint8_t', size);
  return { ptr, bytes: Buffer.from(k.view(ptr, size)), address: k.address(ptr) };
};

export const freeBytes = (ptr: unknown): void => koffi().free(ptr);

/**
 * sizeof(void *) of this process's ABI, known without koffi: Node's own
 * pointer width (koffi runs in this process, so it is the same).
 */
export const POINTER_SIZE = ['arm', 'ia32', 'mips', 'mipsel', 'ppc', 's390'].includes(process.arch) ? 4 : 8;
