// The socket calls the netlink executor needs beyond sys/ffi/libc.ts, bound
// through koffi on first use (koffi itself is loaded then: ../ffi/koffi.ts).
// Blocking calls: the kernel answers rtnetlink requests while our send()
// runs, so a recv() never waits for long (and SO_RCVTIMEO bounds it anyway).
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { syscallFailed } from '../ffi/errno.js';
import { koffi } from '../ffi/koffi.js';

type NativeFn = (...args: unknown[]) => number;

interface NetLibc {
  readonly socket: NativeFn;
  readonly setsockopt: NativeFn;
  readonly send: NativeFn;
  readonly recv: NativeFn;
  readonly close: NativeFn;
  /** ioctl with an integer argument (TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP). */
  readonly ioctlInt: NativeFn;
  /** ioctl with a struct argument (TUNSETIFF, SIOCGIFINDEX). */
  readonly ioctlPtr: NativeFn;
}

let loaded: E.Either<SysError, NetLibc> | undefined;

const load = (): E.Either<SysError, NetLibc> => {
  try {
    const lib = koffi().load('libc.so.6');
    return E.right({
      socket: lib.func('int socket(int domain, int type, int protocol)'),
      setsockopt: lib.func('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)'),
      send: lib.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
      recv: lib.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
      close: lib.func('int close(int fd)'),
      ioctlInt: lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']),
      ioctlPtr: lib.func('ioctl', 'int', ['int', 'unsigned long', 'void *']),
    } as NetLibc);
  } catch (e) {
    return E.left({ _tag: 'FfiUnavailable', detail: e instanceof Error ? e.message : String(e) });
  }
};

export const netLibc = (): E.Either<SysError, NetLibc> => (loaded ??= load());

/** One call; a negative result is a SyscallFailed with the errno koffi saved. */
export const ncall = (name: keyof NetLibc, detail: (code: string) => string, ...args: unknown[]): E.Either<SysError, number> =>
  E.chain((c: NetLibc): E.Either<SysError, number> => {
    const r = Number(c[name](...args));
    return r < 0 ? E.left(syscallFailed(name, koffi().errno(), detail)) : E.right(r);
  })(netLibc());

export const nclose = (fd: number): void => {
  const c = netLibc();
  if (E.isRight(c)) c.right.close(fd);
};
