// The one QMP client, for the launcher (readiness, quit) and for the tests
// (what QEMU built from our arguments). Every message is decoded with io-ts.
// QMP answers commands in the order they were sent, so waiters form a queue;
// the id each command carries must come back on its reply. Events go to a list.
// Nothing throws: every failure is a QmpError, and a socket that closes or
// says something that is not QMP fails every waiting command at once instead
// of leaving it to its deadline.
import type { Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import { describeSysError, isAgain, sendWithFds } from '@tapwire/sys';
import { connectBy } from './qmp-connect.js';
import { QmpMessage, QmpStatus, type QmpEvent, type QmpGreeting } from './qmp-messages.js';

export type { QmpEvent, QmpStatus } from './qmp-messages.js';

export type QmpError =
  /** Nothing listening on the socket by the deadline, or the caller gave up (QEMU exited). */
  | { readonly _tag: 'QmpConnect'; readonly socket: string; readonly detail: string }
  /** A line that is not JSON, not a QMP message, or not the one expected. */
  | { readonly _tag: 'QmpProtocol'; readonly socket: string; readonly detail: string }
  /** The socket closed (or was closed) before `command` was answered. */
  | { readonly _tag: 'QmpClosed'; readonly socket: string; readonly command: string }
  | { readonly _tag: 'QmpTimeout'; readonly socket: string; readonly command: string; readonly ms: number }
  /** The fds could not be passed (sendmsg failed, or this connection cannot pass fds). */
  | { readonly _tag: 'QmpFdPassing'; readonly socket: string; readonly command: string; readonly detail: string }
  /** QEMU refused the command. */
  | { readonly _tag: 'QmpCommand'; readonly command: string; readonly class: string; readonly desc: string }
  | { readonly _tag: 'QmpNotRunning'; readonly socket: string; readonly status: string };

export const describeQmpError = (e: QmpError): string => {
  switch (e._tag) {
    case 'QmpConnect':
      return `QMP socket ${e.socket}: ${e.detail}`;
    case 'QmpProtocol':
      return `QMP socket ${e.socket}: ${e.detail}`;
    case 'QmpClosed':
      return `QMP socket ${e.socket} closed before ${e.command} was answered`;
    case 'QmpTimeout':
      return `QMP socket ${e.socket}: no answer to ${e.command} within ${e.ms} ms`;
    case 'QmpFdPassing':
      return `QMP socket ${e.socket}: cannot pass fds with ${e.command}: ${e.detail}`;
    case 'QmpCommand':
      return `QMP ${e.command} failed: ${e.class}: ${e.desc}`;
    case 'QmpNotRunning':
      return `QMP socket ${e.socket}: the VM is ${e.status}, expected running`;
  }
};

export interface ExecuteOptions {
  /** Give up on the reply after this long (the connection stays usable). */
  readonly timeoutMs?: number;
}

export interface Qmp {
  readonly socket: string;
  /** QEMU's version from the greeting, e.g. "7.2.22". */
  readonly version: string;
  readonly execute: (command: string, args?: Record<string, unknown>, o?: ExecuteOptions) => Promise<E.Either<QmpError, unknown>>;
  /**
   * Like execute, with `fds` riding on the command's bytes (SCM_RIGHTS), as
   * `getfd`/`add-fd` want them. QEMU gets its own copies; ours stay open.
   * Fails with QmpFdPassing on a connection made without the FFI.
   */
  readonly executeWithFds: (command: string, args: Record<string, unknown>, fds: readonly number[], o?: ExecuteOptions) => Promise<E.Either<QmpError, unknown>>;
  /** Every event received so far, oldest first. */
  readonly events: () => readonly QmpEvent[];
  readonly closed: () => boolean;
  readonly close: () => void;
}

export interface ConnectOptions {
  /** Stop retrying when this aborts (e.g. QEMU exited); its reason is reported. */
  readonly signal?: AbortSignal;
}

const GREETING = 'the greeting';

type Settle = (r: E.Either<QmpError, QmpMessage>) => void;
interface Waiter {
  readonly command: string;
  /** undefined: waiting for the greeting. */
  readonly id: number | undefined;
  readonly settle: Settle;
}

const once = (f: Settle): Settle => {
  let done = false;
  return (r) => {
    if (done) return;
    done = true;
    f(r);
  };
};

/** One connected socket: splits lines, decodes them and hands each to its waiter. */
const session = (sock: Socket, socket: string, rawFd: number | undefined) => {
  const queue: Waiter[] = [];
  const events: QmpEvent[] = [];
  let broken: ((command: string) => QmpError) | undefined;
  let nextId = 1;
  const breakWith = (why: (command: string) => QmpError): void => {
    broken ??= why;
    for (const w of queue.splice(0)) w.settle(E.left(why(w.command)));
    sock.destroy();
  };
  const protocol = (detail: string) => breakWith(() => ({ _tag: 'QmpProtocol', socket, detail }));
  const onMessage = (m: QmpMessage): void => {
    if ('event' in m) {
      events.push(m);
      return;
    }
    // Peeked, not shifted: a protocol error below must fail this waiter too.
    const w = queue[0];
    if (w === undefined) return protocol(`unsolicited ${'QMP' in m ? 'greeting' : 'reply'}`);
    const due = w.id === undefined ? GREETING : `the reply to ${w.command}`;
    if ('QMP' in m ? w.id !== undefined : w.id === undefined) return protocol(`a ${'QMP' in m ? 'greeting' : 'reply'} where ${due} was due`);
    if (!('QMP' in m) && m.id !== undefined && m.id !== w.id) return protocol(`reply id ${JSON.stringify(m.id)} where ${w.id} (${w.command}) was due`);
    queue.shift();
    w.settle(E.right(m));
  };
  const onLine = (line: string): void => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return protocol(`not JSON: ${line.slice(0, 120)}`);
    }
    const m = QmpMessage.decode(json);
    if (E.isLeft(m)) return protocol(`not a QMP message: ${line.slice(0, 120)}`);
    onMessage(m.right);
  };
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while (broken === undefined && (nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== '') onLine(line);
    }
  });
  // 'close' follows 'error'; the listener only keeps an error from being thrown.
  sock.on('error', () => undefined);
  sock.on('close', () => breakWith((command) => ({ _tag: 'QmpClosed', socket, command })));

  /** Queues a waiter; `send` writes its request (nothing for the greeting). */
  const wait = (command: string, id: number | undefined, timeoutMs: number | undefined, send: () => void): Promise<E.Either<QmpError, QmpMessage>> =>
    new Promise((resolve) => {
      if (broken !== undefined) return resolve(E.left(broken(command)));
      let timer: NodeJS.Timeout | undefined;
      const settle = once((r) => {
        clearTimeout(timer);
        resolve(r);
      });
      // A late reply still arrives in this waiter's turn, and is dropped there.
      if (timeoutMs !== undefined) timer = setTimeout(() => settle(E.left({ _tag: 'QmpTimeout', socket, command, ms: timeoutMs })), timeoutMs);
      queue.push({ command, id, settle });
      send();
    });

  const execute = async (command: string, args?: Record<string, unknown>, o: ExecuteOptions = {}): Promise<E.Either<QmpError, unknown>> => {
    const id = nextId++;
    const request = JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
    const r = await wait(command, id, o.timeoutMs, () => sock.write(`${request}\n`));
    if (E.isLeft(r)) return r;
    const m = r.right;
    if ('error' in m) return E.left({ _tag: 'QmpCommand', command, class: m.error.class, desc: m.error.desc });
    return E.right('return' in m ? m.return : undefined);
  };
  /**
   * The request goes out with sendmsg on the socket's own fd, past Node's
   * stream: only once Node has flushed what it was writing, so the bytes stay
   * in order. EAGAIN (buffer full) is retried briefly.
   */
  const sendRaw = async (request: Buffer, fds: readonly number[]): Promise<string | undefined> => {
    if (rawFd === undefined) return 'this connection was not made through the FFI';
    while (sock.writableLength > 0) await new Promise((r) => sock.once('drain', r));
    for (let tries = 0; ; tries++) {
      const sent = sendWithFds(rawFd, request, fds);
      if (E.isRight(sent)) {
        if (sent.right < request.length) sock.write(request.subarray(sent.right));
        return undefined;
      }
      if (!isAgain(sent.left) || tries >= 100) return describeSysError(sent.left);
      await sleep(10);
    }
  };
  const executeWithFds = async (command: string, args: Record<string, unknown>, fds: readonly number[], o: ExecuteOptions = {}): Promise<E.Either<QmpError, unknown>> => {
    if (rawFd === undefined) return E.left({ _tag: 'QmpFdPassing', socket, command, detail: 'this connection was not made through the FFI' });
    const id = nextId++;
    const request = Buffer.from(`${JSON.stringify({ execute: command, arguments: args, id })}\n`);
    const r = await wait(command, id, o.timeoutMs, () => {
      void sendRaw(request, fds).then((why) => {
        // Nothing went out, so no reply will come: this waiter is failed, the connection is not.
        if (why !== undefined) drop(id, { _tag: 'QmpFdPassing', socket, command, detail: why });
      });
    });
    if (E.isLeft(r)) return r;
    const m = r.right;
    if ('error' in m) return E.left({ _tag: 'QmpCommand', command, class: m.error.class, desc: m.error.desc });
    return E.right('return' in m ? m.return : undefined);
  };
  /** Fails one waiter whose request never went out. */
  const drop = (id: number, e: QmpError): void => {
    const i = queue.findIndex((w) => w.id === id);
    if (i < 0) return;
    const [w] = queue.splice(i, 1);
    w?.settle(E.left(e));
  };
  const greeting = async (timeoutMs: number): Promise<E.Either<QmpError, QmpGreeting>> =>
    E.chain((m: QmpMessage): E.Either<QmpError, QmpGreeting> => ('QMP' in m ? E.right(m) : E.left({ _tag: 'QmpProtocol', socket, detail: `${GREETING} was due` })))(
      await wait(GREETING, undefined, timeoutMs, () => undefined),
    );
  return {
    execute,
    executeWithFds,
    greeting,
    events: (): readonly QmpEvent[] => events,
    closed: () => broken !== undefined || sock.destroyed,
    close: () => sock.destroy(),
  };
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects, reads the greeting and negotiates capabilities, all within `timeoutMs`. */
export const connectQmp = async (socket: string, timeoutMs: number, o: ConnectOptions = {}): Promise<E.Either<QmpError, Qmp>> => {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  const sock = await connectBy(socket, deadline, timeoutMs, o.signal);
  if (E.isLeft(sock)) return sock;
  const s = session(sock.right.sock, socket, sock.right.rawFd);
  const greeting = await s.greeting(left());
  if (E.isLeft(greeting)) {
    s.close();
    return greeting;
  }
  const caps = await s.execute('qmp_capabilities', undefined, { timeoutMs: left() });
  if (E.isLeft(caps)) {
    s.close();
    return caps;
  }
  const v = greeting.right.QMP.version.qemu;
  return E.right({
    socket,
    version: `${v.major}.${v.minor}.${v.micro}`,
    execute: s.execute,
    executeWithFds: s.executeWithFds,
    events: s.events,
    closed: s.closed,
    close: s.close,
  });
};

/** `query-status`, decoded. */
export const queryStatus = async (qmp: Qmp, o: ExecuteOptions = {}): Promise<E.Either<QmpError, QmpStatus>> => {
  const r = await qmp.execute('query-status', undefined, o);
  if (E.isLeft(r)) return r;
  const d = QmpStatus.decode(r.right);
  return E.isLeft(d) ? E.left({ _tag: 'QmpProtocol', socket: qmp.socket, detail: 'the query-status reply is not {status, running}' }) : E.right(d.right);
};

