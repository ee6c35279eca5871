// Reaching QEMU's QMP socket: retried until QEMU has made it and listens.
// The socket is made with libc (so fds can be passed on it, qmp.ts
// executeWithFds) and handed to Node for everything else.
import { connect, Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import { connectUnixStream, describeSysError } from '@tapwire/sys';
import type { QmpError } from './qmp.js';

const RETRY_MS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A socket made with libc (so fds can be passed on it) handed to Node for
 * everything else; without the FFI, Node's own connect (no fd passing).
 */
const tryConnect = async (socket: string): Promise<E.Either<string, { sock: Socket; rawFd: number | undefined }>> => {
  const fd = connectUnixStream(socket);
  if (E.isRight(fd)) return E.right({ sock: new Socket({ fd: fd.right, readable: true, writable: true }), rawFd: fd.right });
  if (fd.left._tag !== 'FfiUnavailable') return E.left(describeSysError(fd.left));
  return E.map((sock: Socket) => ({ sock, rawFd: undefined as number | undefined }))(await nodeConnect(socket));
};

const nodeConnect = (socket: string): Promise<E.Either<string, Socket>> =>
  new Promise((resolve) => {
    const s = connect(socket);
    s.once('connect', () => resolve(E.right(s)));
    s.once('error', (e) => resolve(E.left(e.message)));
  });

/** Retries until QEMU has made the socket and listens on it. */
export const connectBy = async (
  socket: string,
  deadline: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<E.Either<QmpError, { sock: Socket; rawFd: number | undefined }>> => {
  let last = 'nothing tried';
  for (;;) {
    if (signal?.aborted === true) return E.left({ _tag: 'QmpConnect', socket, detail: `gave up: ${String(signal.reason)}` });
    if (Date.now() >= deadline) return E.left({ _tag: 'QmpConnect', socket, detail: `nothing answered within ${timeoutMs} ms (${last})` });
    const s = await tryConnect(socket);
    if (E.isRight(s)) return s;
    last = s.left;
    await sleep(RETRY_MS);
  }
};

