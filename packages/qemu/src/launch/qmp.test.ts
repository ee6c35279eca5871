// The QMP client against a fake QMP server on a unix socket: what QEMU sends
// (greeting, replies carrying our ids, events in between) and what a broken
// or dying QEMU does (garbage, silence, a closed socket).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { connectQmp, queryStatus, type Qmp } from './qmp.js';
import { qmpReady } from './qmp-ready.js';

interface Request {
  readonly execute: string;
  readonly arguments?: unknown;
  readonly id?: unknown;
}

const GREETING = { QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7' }, capabilities: ['oob'] } };
const event = (name: string, data?: unknown) => ({ event: name, timestamp: { seconds: 1700000000, microseconds: 1 }, ...(data === undefined ? {} : { data }) });
const send = (sock: Socket, ...messages: unknown[]): void => {
  sock.write(messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join('\n') + '\n');
};

type Answer = (req: Request, sock: Socket) => void;

/** Greets and accepts qmp_capabilities like QEMU (unless told otherwise); other requests go to `answer`. */
const fakeQmp = async (
  t: ExecutionContext,
  answer: Answer = () => undefined,
  greet: (sock: Socket) => void = (s) => send(s, GREETING),
  capabilities: Answer = (req, sock) => send(sock, { return: {}, id: req.id }),
) => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-qmp-'));
  const path = join(dir, 'qmp.sock');
  const requests: Request[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    greet(sock);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const req = JSON.parse(buf.slice(0, nl)) as Request;
        buf = buf.slice(nl + 1);
        requests.push(req);
        (req.execute === 'qmp_capabilities' ? capabilities : answer)(req, sock);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  );
  return { path, requests };
};

const connected = async (t: ExecutionContext, path: string): Promise<Qmp> => {
  const r = await connectQmp(path, 2000);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  t.teardown(() => r.right.close());
  return r.right;
};

test('greeting and capabilities: the version comes from the greeting, qmp_capabilities goes first', async (t) => {
  const fake = await fakeQmp(t);
  const qmp = await connected(t, fake.path);
  t.is(qmp.version, '7.2.22');
  t.deepEqual(fake.requests.map((r) => r.execute), ['qmp_capabilities']);
  t.false(qmp.closed());
});

test('a command gets its return, sent with its arguments and an id', async (t) => {
  const fake = await fakeQmp(t, (req, sock) => send(sock, { return: { echo: req.arguments }, id: req.id }));
  const qmp = await connected(t, fake.path);
  t.deepEqual(await qmp.execute('qom-get', { path: '/machine', property: 'kernel' }), E.right({ echo: { path: '/machine', property: 'kernel' } }));
  t.like(fake.requests[1], { execute: 'qom-get', arguments: { path: '/machine', property: 'kernel' } });
  t.not(fake.requests[1]?.id, undefined);
});

test('an error reply is a QmpCommand naming the command, and the connection stays usable', async (t) => {
  const fake = await fakeQmp(t, (req, sock) =>
    send(sock, req.execute === 'nope' ? { error: { class: 'CommandNotFound', desc: "The command nope has not been found" }, id: req.id } : { return: 1, id: req.id }),
  );
  const qmp = await connected(t, fake.path);
  t.deepEqual(await qmp.execute('nope'), E.left({ _tag: 'QmpCommand', command: 'nope', class: 'CommandNotFound', desc: 'The command nope has not been found' }));
  t.deepEqual(await qmp.execute('query-name'), E.right(1));
});

test('events before, between and after replies are kept and do not settle commands', async (t) => {
  const fake = await fakeQmp(t, (req, sock) => {
    send(sock, event('RESUME'), event('NIC_RX_FILTER_CHANGED', { name: 'net0' }), { return: req.execute, id: req.id }, event('STOP'));
  });
  const qmp = await connected(t, fake.path);
  // Pipelined: both are on the wire before either reply.
  const [a, b] = await Promise.all([qmp.execute('first'), qmp.execute('second')]);
  t.deepEqual([a, b], [E.right('first'), E.right('second')]);
  t.deepEqual(
    qmp.events().map((e) => e.event),
    ['RESUME', 'NIC_RX_FILTER_CHANGED', 'STOP', 'RESUME', 'NIC_RX_FILTER_CHANGED', 'STOP'],
  );
  t.deepEqual(qmp.events()[1]?.data, { name: 'net0' });
});

test('a reply split across writes is put back together', async (t) => {
  const fake = await fakeQmp(t, (req, sock) => {
    const line = `${JSON.stringify({ return: { text: 'ünïcode' }, id: req.id })}\n`;
    const bytes = Buffer.from(line);
    // Cut inside the two-byte ü so the decoder has to hold half a character.
    const cut = bytes.indexOf(Buffer.from('ü')) + 1;
    sock.write(bytes.subarray(0, cut));
    setTimeout(() => sock.write(bytes.subarray(cut)), 20);
  });
  const qmp = await connected(t, fake.path);
  t.deepEqual(await qmp.execute('x'), E.right({ text: 'ünïcode' }));
});

test('malformed JSON fails the waiting command with QmpProtocol, and every later one too', async (t) => {
  const fake = await fakeQmp(t, (_req, sock) => send(sock, '{"return": {}, "id": '));
  const qmp = await connected(t, fake.path);
  const r = await qmp.execute('query-status');
  t.like(r, { _tag: 'Left', left: { _tag: 'QmpProtocol', socket: fake.path } });
  if (E.isLeft(r)) t.regex(r.left._tag === 'QmpProtocol' ? r.left.detail : '', /^not JSON: /);
  t.true(qmp.closed());
  t.like(await qmp.execute('query-name'), { _tag: 'Left', left: { _tag: 'QmpProtocol' } });
});

test('JSON that is no QMP message ({}, a return without its key, a bad error) is QmpProtocol', async (t) => {
  for (const garbage of ['{}', '{"id": 2}', '{"error": "no"}', '[1]', '{"event": 3}']) {
    const fake = await fakeQmp(t, (_req, sock) => send(sock, garbage));
    const qmp = await connected(t, fake.path);
    const r = await qmp.execute('query-status');
    t.like(r, { _tag: 'Left', left: { _tag: 'QmpProtocol' } }, garbage);
    if (E.isLeft(r) && r.left._tag === 'QmpProtocol') t.regex(r.left.detail, /not a QMP message/, garbage);
  }
});

test('a reply carrying another id is QmpProtocol', async (t) => {
  const fake = await fakeQmp(t, (_req, sock) => send(sock, { return: {}, id: 999 }));
  const qmp = await connected(t, fake.path);
  t.like(await qmp.execute('query-status'), { _tag: 'Left', left: { _tag: 'QmpProtocol', detail: 'reply id 999 where 2 (query-status) was due' } });
});

test('the socket closing mid-command fails it at once with QmpClosed naming it', async (t) => {
  const fake = await fakeQmp(t, (req, sock) => {
    if (req.execute === 'quit') sock.destroy();
  });
  const qmp = await connected(t, fake.path);
  const started = Date.now();
  const [quit, other] = await Promise.all([qmp.execute('quit', undefined, { timeoutMs: 5000 }), qmp.execute('query-status')]);
  t.true(Date.now() - started < 1000, 'not left to the deadline');
  t.deepEqual(quit, E.left({ _tag: 'QmpClosed', socket: fake.path, command: 'quit' }));
  t.deepEqual(other, E.left({ _tag: 'QmpClosed', socket: fake.path, command: 'query-status' }));
  t.true(qmp.closed());
  t.deepEqual(await qmp.execute('after'), E.left({ _tag: 'QmpClosed', socket: fake.path, command: 'after' }));
});

test('a command timeout is QmpTimeout; its late reply is dropped and the next command gets its own', async (t) => {
  // QMP answers in order: the second reply comes after the first, late one.
  const fake = await fakeQmp(t, (req, sock) => {
    setTimeout(() => send(sock, { return: req.execute === 'slow' ? 'late' : 'own', id: req.id }), req.execute === 'slow' ? 150 : 200);
  });
  const qmp = await connected(t, fake.path);
  t.deepEqual(await qmp.execute('slow', undefined, { timeoutMs: 50 }), E.left({ _tag: 'QmpTimeout', socket: fake.path, command: 'slow', ms: 50 }));
  t.deepEqual(await qmp.execute('next'), E.right('own'));
});

test('no greeting, or something else first, fails the connect with a typed error', async (t) => {
  const silent = await fakeQmp(t, undefined, () => undefined);
  t.like(await connectQmp(silent.path, 200), { _tag: 'Left', left: { _tag: 'QmpTimeout', command: 'the greeting' } });
  const early = await fakeQmp(t, undefined, (s) => send(s, { return: {} }));
  t.like(await connectQmp(early.path, 1000), { _tag: 'Left', left: { _tag: 'QmpProtocol', detail: 'a reply where the greeting was due' } });
  const versionless = await fakeQmp(t, undefined, (s) => send(s, { QMP: { capabilities: [] } }));
  t.like(await connectQmp(versionless.path, 1000), { _tag: 'Left', left: { _tag: 'QmpProtocol' } });
});

test('refused capabilities fail the connect', async (t) => {
  const fake = await fakeQmp(t, undefined, undefined, (req, sock) =>
    send(sock, { error: { class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete' }, id: req.id }),
  );
  t.like(await connectQmp(fake.path, 1000), { _tag: 'Left', left: { _tag: 'QmpCommand', command: 'qmp_capabilities' } });
});

test('connect waits for the socket to appear, up to its deadline', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-qmp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'qmp.sock');
  const started = Date.now();
  const r = await connectQmp(path, 300);
  t.true(Date.now() - started >= 300);
  t.like(r, { _tag: 'Left', left: { _tag: 'QmpConnect', socket: path } });
  if (E.isLeft(r) && r.left._tag === 'QmpConnect') t.regex(r.left.detail, /nothing answered within 300 ms \(.*ENOENT/);

  // The server appears while the client is retrying.
  const late = connectQmp(path, 3000);
  await new Promise((r2) => setTimeout(r2, 200));
  const server = createServer((s) => {
    send(s, GREETING);
    s.on('data', (c: Buffer) => send(s, { return: {}, id: (JSON.parse(c.toString()) as Request).id }));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const ok = await late;
  t.true(E.isRight(ok));
  if (E.isRight(ok)) ok.right.close();
});

test('an aborted connect gives up at once and says why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-qmp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const gone = new AbortController();
  setTimeout(() => gone.abort('QEMU exited'), 100);
  const started = Date.now();
  const r = await connectQmp(join(dir, 'qmp.sock'), 10_000, { signal: gone.signal });
  t.true(Date.now() - started < 1000);
  t.like(r, { _tag: 'Left', left: { _tag: 'QmpConnect', detail: 'gave up: QEMU exited' } });
});

test('query-status is decoded; qmpReady wants running', async (t) => {
  let status = { status: 'running', running: true } as unknown;
  const fake = await fakeQmp(t, (req, sock) => send(sock, { return: status, id: req.id }));
  const ready = await qmpReady(fake.path, 1000);
  t.like(ready, { _tag: 'Right', right: { version: '7.2.22', status: 'running' } });
  if (E.isRight(ready)) {
    t.deepEqual(await queryStatus(ready.right.qmp), E.right({ status: 'running', running: true }));
    status = { status: 'running' };
    t.like(await queryStatus(ready.right.qmp), { _tag: 'Left', left: { _tag: 'QmpProtocol', socket: fake.path } });
    ready.right.qmp.close();
  }
  status = { status: 'prelaunch', running: false, singlestep: false };
  t.deepEqual(await qmpReady(fake.path, 1000), E.left({ _tag: 'QmpNotRunning', socket: fake.path, status: 'prelaunch' }));
});
