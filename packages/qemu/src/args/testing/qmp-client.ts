// Just enough QMP to ask a paused QEMU what it built from our arguments.
import { connect, type Socket } from 'node:net';
import * as iots from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import type { QemuProcess } from './qemu-process.js';

const QmpMessage = iots.union([
  iots.type({ return: iots.unknown }),
  iots.type({ error: iots.type({ class: iots.string, desc: iots.string }) }),
  iots.type({ event: iots.string }),
  iots.type({ QMP: iots.unknown }),
]);
type QmpMessage = iots.TypeOf<typeof QmpMessage>;

export interface Qmp {
  /** Resolves with `return`, rejects with QEMU's error description. */
  readonly execute: (command: string, args?: Record<string, unknown>) => Promise<unknown>;
  readonly close: () => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tryConnect = (path: string): Promise<Socket | undefined> =>
  new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });

/** Connects once QEMU has created the socket; fails early, with QEMU's stderr, if QEMU dies. */
export const connectQmp = async (path: string, qemu: QemuProcess, timeoutMs: number): Promise<Qmp> => {
  let exited = false;
  void qemu.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  let sock: Socket | undefined;
  while (sock === undefined) {
    if (exited) throw new Error(`QEMU exited before QMP was up: ${qemu.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no QMP on ${path} after ${timeoutMs} ms: ${qemu.stderr()}`);
    sock = await tryConnect(path);
    if (sock === undefined) await sleep(50);
  }
  const s = sock;
  const waiting: { resolve: (m: QmpMessage) => void; reject: (e: Error) => void }[] = [];
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      const m = QmpMessage.decode(JSON.parse(line));
      if (E.isLeft(m) || 'event' in m.right) continue;
      waiting.shift()?.resolve(m.right);
    }
  });
  s.on('close', () => {
    for (const w of waiting.splice(0)) w.reject(new Error(`QMP closed: ${qemu.stderr()}`));
  });
  const next = () => new Promise<QmpMessage>((resolve, reject) => waiting.push({ resolve, reject }));
  await next(); // greeting
  const execute = async (command: string, args?: Record<string, unknown>): Promise<unknown> => {
    const reply = next();
    s.write(`${JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args })}\n`);
    const m = await reply;
    if ('error' in m) throw new Error(`${command}: ${m.error.class}: ${m.error.desc}`);
    return 'return' in m ? m.return : undefined;
  };
  await execute('qmp_capabilities');
  return { execute, close: () => s.destroy() };
};
