// Passing open fds to another process over a unix stream socket (SCM_RIGHTS),
// which Node's net module cannot do. QEMU takes fds this way on its QMP socket
// (`getfd`): the fd rides as ancillary data on the bytes of the command.
// So the socket must be one we own: connectUnixStream makes it with libc, and
// a caller may hand the fd to `new net.Socket({ fd })` for ordinary reads and
// writes and still call sendWithFds on it for the one message that carries fds.
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { errnoName, syscallFailed } from './errno.js';
import { koffi } from './koffi.js';

type NativeFn = (...args: unknown[]) => number;
interface SocketCalls {
  readonly socket: NativeFn;
  readonly connect: NativeFn;
  readonly sendmsg: NativeFn;
  readonly close: NativeFn;
}

let loaded: E.Either<SysError, SocketCalls> | undefined;
const calls = (): E.Either<SysError, SocketCalls> =>
  (loaded ??= (() => {
    try {
      const lib = koffi().load('libc.so.6');
      return E.right({
        socket: lib.func('int socket(int domain, int type, int protocol)'),
        connect: lib.func('int connect(int fd, const void *addr, uint32_t len)'),
        sendmsg: lib.func('intptr_t sendmsg(int fd, const void *msg, int flags)'),
        close: lib.func('int close(int fd)'),
      } as SocketCalls);
    } catch (e) {
      return E.left<SysError>({ _tag: 'FfiUnavailable', detail: e instanceof Error ? e.message : String(e) });
    }
  })());

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;
/** sizeof(struct sockaddr_un): sun_family (2) + sun_path (108). */
const SOCKADDR_UN_SIZE = 110;
const SUN_PATH_MAX = 107;
/** struct msghdr and struct cmsghdr on LP64 Linux. */
const MSGHDR_SIZE = 56;
const CMSGHDR_SIZE = 16;
/** The kernel refuses more than SCM_MAX_FD fds in one message. */
export const MAX_FDS_PER_MESSAGE = 253;

/** A connected unix stream socket made with libc, close-on-exec; the caller owns the fd. */
export const connectUnixStream = (path: string): E.Either<SysError, number> => {
  const pathBytes = Buffer.from(path);
  if (pathBytes.length === 0 || pathBytes.length > SUN_PATH_MAX || pathBytes.includes(0))
    return E.left({ _tag: 'BadInput', what: 'unix socket path', input: path, expected: `1 to ${SUN_PATH_MAX} bytes, no NUL` });
  return E.chain((c: SocketCalls): E.Either<SysError, number> => {
    const fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return E.left(syscallFailed('socket', koffi().errno(), (code) => `AF_UNIX stream socket: ${code}`));
    const addr = Buffer.alloc(SOCKADDR_UN_SIZE);
    addr.writeUInt16LE(AF_UNIX, 0);
    pathBytes.copy(addr, 2);
    if (c.connect(fd, addr, 2 + pathBytes.length + 1) < 0) {
      const errno = koffi().errno();
      c.close(fd);
      return E.left(syscallFailed('connect', errno, (code) => `connecting to ${path}: ${code}`));
    }
    return E.right(fd);
  })(calls());
};

interface Native {
  readonly ptr: unknown;
  readonly bytes: Buffer;
  readonly address: bigint;
}
/** Native memory the kernel reaches through pointers inside other structs (a Buffer may move). */
const native = (size: number): Native => {
  const ptr = koffi().alloc('uint8_t', Math.max(size, 1));
  return { ptr, bytes: Buffer.from(koffi().view(ptr, Math.max(size, 1))), address: BigInt(koffi().address(ptr) as bigint | number) };
};

/** msghdr -> one iovec over `data`, control -> one SCM_RIGHTS cmsg holding `fds`. Free every part after the call. */
const buildMessage = (data: Buffer, fds: readonly number[]): { msg: Native; parts: Native[] } => {
  const payload = native(data.length);
  data.copy(payload.bytes);
  const iov = native(16);
  iov.bytes.writeBigUInt64LE(payload.address, 0);
  iov.bytes.writeBigUInt64LE(BigInt(data.length), 8);
  const cmsgLen = CMSGHDR_SIZE + 4 * fds.length;
  const controlLen = fds.length === 0 ? 0 : (cmsgLen + 7) & ~7;
  const control = native(controlLen);
  control.bytes.fill(0);
  if (fds.length > 0) {
    control.bytes.writeBigUInt64LE(BigInt(cmsgLen), 0);
    control.bytes.writeInt32LE(SOL_SOCKET, 8);
    control.bytes.writeInt32LE(SCM_RIGHTS, 12);
    fds.forEach((fd, i) => control.bytes.writeInt32LE(fd, CMSGHDR_SIZE + 4 * i));
  }
  const msg = native(MSGHDR_SIZE);
  msg.bytes.fill(0);
  msg.bytes.writeBigUInt64LE(iov.address, 16);
  msg.bytes.writeBigUInt64LE(1n, 24);
  msg.bytes.writeBigUInt64LE(controlLen === 0 ? 0n : control.address, 32);
  msg.bytes.writeBigUInt64LE(BigInt(controlLen), 40);
  return { msg, parts: [payload, iov, control, msg] };
};

/**
 * Sends `data` with `fds` attached (the receiver gets its own copies; ours stay
 * open). Returns how many bytes of `data` went out: on a non-blocking socket a
 * full buffer sends fewer, or fails with EAGAIN (nothing sent, no fd passed).
 */
export const sendWithFds = (sock: number, data: Buffer, fds: readonly number[]): E.Either<SysError, number> => {
  if (data.length === 0) return E.left({ _tag: 'BadInput', what: 'data sent with fds', input: '', expected: 'at least one byte (fds ride on bytes)' });
  if (fds.length > MAX_FDS_PER_MESSAGE || fds.some((fd) => !Number.isInteger(fd) || fd < 0))
    return E.left({ _tag: 'BadInput', what: 'fds to pass', input: fds.join(','), expected: `at most ${MAX_FDS_PER_MESSAGE} open fds` });
  return E.chain((c: SocketCalls): E.Either<SysError, number> => {
    const { msg, parts } = buildMessage(data, fds);
    const n = c.sendmsg(sock, msg.ptr, MSG_NOSIGNAL);
    const errno = koffi().errno();
    for (const p of parts) koffi().free(p.ptr);
    if (n < 0) return E.left(syscallFailed('sendmsg', errno, (code) => `passing fds ${fds.join(',')} on socket fd ${sock}: ${code}`));
    return E.right(Number(n));
  })(calls());
};

/** The socket's buffer is full (non-blocking): nothing was sent, try again later. */
export const isAgain = (e: SysError): boolean => e._tag === 'SyscallFailed' && (e.code === 'EAGAIN' || e.code === errnoName(11));
