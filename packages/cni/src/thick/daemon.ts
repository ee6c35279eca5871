// `tapwire cni daemon`: the thick mode's long-lived side. Each connection is
// one CNI call sent by a forwarder (forwarder/tapwire-cni-shim.c): it runs in
// this process through runPlugin, the same code a standalone plugin
// executable runs, with the caller's environment and stdin, and the exit code,
// stdout and stderr go back. Calls run in parallel; calls naming the same
// CNI_CONTAINERID run one after the other. The socket is the caller's only
// door to root's network work, so it is made mode 0600 (root's runtime only).
import { mkdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { isSocketPath, socketIdentity } from '@tapwire/sys';
import { macvtapPlugin } from '../plugins/macvtap.js';
import { tapPlugin } from '../plugins/tap.js';
import { tcRedirectTapPlugin } from '../plugins/tc-redirect-tap.js';
import { runPlugin, type PluginIo } from '../skel.js';
import { CODES, cniError, encodeError } from '../spec/errors.js';
import { LATEST_VERSION } from '../spec/version.js';
import { decodeRequest, encodeResponse, MAX_REQUEST_BYTES, type ThickRequest, type ThickResponse } from './protocol.js';
import { keyedQueue } from './keyed-queue.js';

export const DEFAULT_SOCKET = '/run/tapwire/cni.sock';
/** How long a forwarder may take to send its request (it sends it at once). */
const REQUEST_TIMEOUT_MS = 30_000;

const PLUGINS: Readonly<Record<string, (io: PluginIo) => Promise<number>>> = {
  tap: (io) => runPlugin(tapPlugin, io),
  macvtap: (io) => runPlugin(macvtapPlugin, io),
  'tc-redirect-tap': (io) => runPlugin(tcRedirectTapPlugin, io),
};

const failed = (msg: string, details?: string): ThickResponse => ({
  exitCode: 1,
  stdout: `${encodeError(cniError(CODES.internal, msg, details), LATEST_VERSION)}\n`,
  stderr: '',
});

/** One CNI call, in-process: what the standalone executable would have printed and returned. */
export const runCall = async (req: ThickRequest): Promise<ThickResponse> => {
  const run = Object.hasOwn(PLUGINS, req.plugin) ? PLUGINS[req.plugin] : undefined;
  if (run === undefined) return failed(`no tapwire CNI plugin named ${JSON.stringify(req.plugin)}`, `the forwarder's file name picks the plugin: ${Object.keys(PLUGINS).join(', ')}`);
  const out: string[] = [];
  const err: string[] = [];
  const exitCode = await run({ stdin: () => req.stdin, env: req.env, out: (s) => out.push(`${s}\n`), err: (s) => err.push(`${s}\n`) });
  return { exitCode, stdout: out.join(''), stderr: err.join('') };
};

export interface Daemon {
  readonly socket: string;
  /** Stops accepting, waits for the calls under way, removes the socket. */
  readonly close: () => Promise<void>;
}

export type DaemonError =
  | { readonly _tag: 'SocketInUse'; readonly socket: string }
  | { readonly _tag: 'ListenFailed'; readonly socket: string; readonly message: string };

export const describeDaemonError = (e: DaemonError): string =>
  e._tag === 'SocketInUse' ? `a CNI daemon already answers on ${e.socket}` : `cannot listen on ${e.socket}: ${e.message}`;

/** true when something accepts connections on `path`. */
const answers = (path: string): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });


const serveConnection = (conn: Socket, queue: ReturnType<typeof keyedQueue>, log: (line: string) => void, pending: Set<Promise<void>>): void => {
  const chunks: Buffer[] = [];
  let bytes = 0;
  conn.on('error', () => undefined);
  // A caller that never finishes its request must not hold a connection for ever (the call itself may take long).
  conn.setTimeout(REQUEST_TIMEOUT_MS, () => conn.destroy());
  conn.on('data', (c: Buffer) => {
    bytes += c.byteLength;
    if (bytes > MAX_REQUEST_BYTES) {
      conn.end(encodeResponse(failed(`request larger than ${MAX_REQUEST_BYTES} bytes`)));
      conn.destroySoon();
    } else chunks.push(c);
  });
  conn.on('end', () => {
    conn.setTimeout(0);
    if (bytes > MAX_REQUEST_BYTES) return;
    const req = decodeRequest(Buffer.concat(chunks));
    const work = (async () => {
      if (E.isLeft(req)) {
        conn.end(encodeResponse(failed('bad request from the CNI forwarder', req.left)));
        return;
      }
      const started = process.hrtime.bigint();
      const container = req.right.env['CNI_CONTAINERID'];
      const res = await queue.run(container === undefined || container === '' ? undefined : container, () => runCall(req.right));
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log(`${req.right.plugin} ${req.right.env['CNI_COMMAND'] ?? '-'} ${container ?? '-'} ${req.right.env['CNI_IFNAME'] ?? '-'}: exit ${res.exitCode} (${ms.toFixed(1)} ms)`);
      conn.end(encodeResponse(res));
    })();
    pending.add(work);
    void work.finally(() => pending.delete(work));
  });
};

/** Listens on `socket` (its directory made if missing; a stale socket file replaced). */
export const startDaemon = (socket: string, log: (line: string) => void = () => undefined): TE.TaskEither<DaemonError, Daemon> => () => listen(socket, log);

const listen = async (socket: string, log: (line: string) => void): Promise<E.Either<DaemonError, Daemon>> => {
  if (isSocketPath(socket)) {
    if (await answers(socket)) return E.left({ _tag: 'SocketInUse', socket });
    rmSync(socket, { force: true });
  }
  try {
    mkdirSync(dirname(socket), { recursive: true, mode: 0o755 });
  } catch (e) {
    return E.left({ _tag: 'ListenFailed', socket, message: (e as Error).message });
  }
  const queue = keyedQueue();
  const pending = new Set<Promise<void>>();
  // allowHalfOpen: the forwarder half-closes after its request; the answer goes back on the same connection.
  const server: Server = createServer({ allowHalfOpen: true }, (conn) => serveConnection(conn, queue, log, pending));
  // The socket is born 0600: no window in which another user could connect.
  const umask = process.umask(0o177);
  const listening = await new Promise<E.Either<DaemonError, void>>((resolve) => {
    server.once('error', (e) => resolve(E.left({ _tag: 'ListenFailed', socket, message: e.message })));
    server.listen(socket, () => resolve(E.right(undefined)));
  });
  process.umask(umask);
  if (E.isLeft(listening)) return listening;
  const identity = socketIdentity(socket);
  return E.right({
    socket,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...pending]);
      try {
        if (socketIdentity(socket) === identity) rmSync(socket, { force: true });
      } catch {
        // already gone
      }
    },
  });
};

/**
 * The daemon as a program: serves until SIGTERM or SIGINT, then lets the calls
 * under way finish and removes its socket. Resolves to an exit code.
 */
export const serveUntilSignal = async (socket: string, say: (line: string) => void): Promise<number> => {
  const d = await startDaemon(socket, say)();
  if (E.isLeft(d)) {
    say(`tapwire cni daemon: ${describeDaemonError(d.left)}`);
    return 1;
  }
  say(`tapwire cni daemon: listening on ${socket}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  await d.right.close();
  say(`tapwire cni daemon: ${signal}, stopped`);
  return 0;
};
