// A minimal QMP client over the launcher's unix socket. Every reply is decoded
// with io-ts; events are kept so callers can wait for e.g. SHUTDOWN.
import { connect, type Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

const Greeting = t.type({ QMP: t.type({ version: t.type({ qemu: t.type({ major: t.number, minor: t.number, micro: t.number }) }) }) }, 'QMP greeting');
const Reply = t.union([
  t.type({ return: t.unknown }),
  t.type({ error: t.type({ class: t.string, desc: t.string }) }),
  t.type({ event: t.string }),
], 'QMP message');
type Reply = t.TypeOf<typeof Reply>;

export type QmpError =
  | { readonly _tag: 'QmpConnect'; readonly socket: string; readonly detail: string }
  | { readonly _tag: 'QmpProtocol'; readonly detail: string }
  | { readonly _tag: 'QmpCommand'; readonly command: string; readonly class: string; readonly desc: string };

export const describeQmpError = (e: QmpError): string =>
  e._tag === 'QmpConnect'
    ? `QMP socket ${e.socket}: ${e.detail}`
    : e._tag === 'QmpProtocol'
      ? `QMP: ${e.detail}`
      : `QMP ${e.command} failed: ${e.class}: ${e.desc}`;

export interface Qmp {
  readonly version: string;
  readonly execute: (command: string, args?: Record<string, unknown>) => Promise<E.Either<QmpError, unknown>>;
  readonly events: () => readonly string[];
  readonly close: () => void;
}

/** Connects, reads the greeting, negotiates capabilities. Retries until QEMU has made the socket. */
export const connectQmp = async (socket: string, timeoutMs: number): Promise<E.Either<QmpError, Qmp>> => {
  const deadline = Date.now() + timeoutMs;
  let sock: Socket | undefined;
  let lastErr = '';
  while (sock === undefined && Date.now() < deadline) {
    try {
      sock = await new Promise<Socket>((resolve, reject) => {
        const s = connect(socket);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      lastErr = (e as Error).message;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (sock === undefined) return E.left({ _tag: 'QmpConnect', socket, detail: lastErr || 'timed out' });
  const s = sock;
  let buf = '';
  const lines: unknown[] = [];
  const events: string[] = [];
  let wake: (() => void) | undefined;
  s.setEncoding('utf8');
  s.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line.length === 0) continue;
      try {
        lines.push(JSON.parse(line));
      } catch {
        lines.push({ unparsable: line });
      }
    }
    wake?.();
  });
  s.on('error', () => wake?.());
  s.on('close', () => wake?.());
  const next = async (): Promise<unknown> => {
    while (lines.length === 0) {
      if (s.destroyed) return undefined;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, Math.max(0, deadline - Date.now()) + 1000);
      });
      if (lines.length === 0 && s.destroyed) return undefined;
    }
    return lines.shift();
  };
  const greeting = Greeting.decode(await next());
  if (E.isLeft(greeting)) {
    s.destroy();
    return E.left({ _tag: 'QmpProtocol', detail: 'no valid greeting on the QMP socket' });
  }
  const v = greeting.right.QMP.version.qemu;
  const execute = async (command: string, args?: Record<string, unknown>): Promise<E.Either<QmpError, unknown>> => {
    if (s.destroyed) return E.left({ _tag: 'QmpProtocol', detail: `socket closed before ${command}` });
    s.write(`${JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args })}\n`);
    for (;;) {
      const raw = await next();
      if (raw === undefined) return E.left({ _tag: 'QmpProtocol', detail: `socket closed while waiting for ${command}` });
      const m = Reply.decode(raw);
      if (E.isLeft(m)) return E.left({ _tag: 'QmpProtocol', detail: `unexpected reply to ${command}: ${JSON.stringify(raw).slice(0, 120)}` });
      const r: Reply = m.right;
      if ('event' in r) {
        events.push(r.event);
        continue;
      }
      if ('error' in r) return E.left({ _tag: 'QmpCommand', command, class: r.error.class, desc: r.error.desc });
      return E.right(r.return);
    }
  };
  const caps = await execute('qmp_capabilities');
  if (E.isLeft(caps)) {
    s.destroy();
    return caps;
  }
  return E.right({ version: `${v.major}.${v.minor}.${v.micro}`, execute, events: () => events, close: () => s.destroy() });
};

const StatusInfo = t.type({ status: t.string, running: t.boolean }, 'query-status reply');

/** `query-status`, decoded. */
export const queryStatus = async (qmp: Qmp): Promise<E.Either<QmpError, t.TypeOf<typeof StatusInfo>>> => {
  const r = await qmp.execute('query-status');
  if (E.isLeft(r)) return r;
  const d = StatusInfo.decode(r.right);
  return E.isLeft(d) ? E.left({ _tag: 'QmpProtocol', detail: 'query-status reply is not {status, running}' }) : E.right(d.right);
};
