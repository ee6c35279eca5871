// The `vm start` process's own socket: QEMU takes one QMP client and the guest
// control port one host end, and the start process holds both, so the other
// verbs ask it, one JSON line each way. Both directions are decoded with io-ts.
import { connect } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

export const VmRequestC = t.union([
  t.type({ op: t.literal('add'), netns: t.string, link: t.string, model: t.string, queues: t.number }),
  t.type({ op: t.literal('remove'), link: t.string }),
  t.type({ op: t.literal('nics') }),
  t.type({ op: t.literal('stop') }),
]);
export type VmRequest = t.TypeOf<typeof VmRequestC>;

export const VmResponseC = t.union([
  t.type({ ok: t.literal(true), result: t.unknown }),
  /** exit: the code the client exits with (2 bad request, 1 failed). */
  t.type({ ok: t.literal(false), error: t.string, exit: t.number }),
]);
export type VmResponse = t.TypeOf<typeof VmResponseC>;

/** Sends one request and reads one reply line (or fails saying why). */
export const askVm = (apiSocket: string, req: VmRequest, timeoutMs: number): Promise<E.Either<string, VmResponse>> =>
  new Promise((resolve) => {
    const sock = connect(apiSocket);
    let buf = '';
    const done = (r: E.Either<string, VmResponse>): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(E.left(`no answer from ${apiSocket} within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let json: unknown;
      try {
        json = JSON.parse(buf.slice(0, nl));
      } catch {
        return done(E.left(`${apiSocket} answered something that is not JSON`));
      }
      const d = VmResponseC.decode(json);
      done(E.isLeft(d) ? E.left(`${apiSocket} answered something that is no VM response`) : E.right(d.right));
    });
    sock.on('error', (e) => done(E.left(`${apiSocket}: ${e.message}`)));
    sock.on('close', () => done(E.left(`${apiSocket} closed without an answer`)));
  });
