// The forwarder <-> daemon wire format and the per-container queue, pure.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { keyedQueue } from './keyed-queue.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from './protocol.js';

test('a request survives the wire: env values with =, newlines and UTF-8; stdin as is', (t) => {
  const req = { plugin: 'tc-redirect-tap', env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'A=1;B=2', ODD: 'two\nlines ü' }, stdin: '{"cniVersion":"1.0.0"}\n' };
  t.deepEqual(decodeRequest(encodeRequest(req)), E.right(req));
});

test('a request as the C forwarder writes it: environ entries without = are dropped, stdin may be empty', (t) => {
  const raw = Buffer.from('TWCNI1\0tap\0CNI_COMMAND=VERSION\0NOEQUALS\0=x\0\0', 'utf8');
  t.deepEqual(decodeRequest(raw), E.right({ plugin: 'tap', env: { CNI_COMMAND: 'VERSION' }, stdin: '' }));
});

test('bad requests are refused with a reason', (t) => {
  t.true(E.isLeft(decodeRequest(Buffer.from('HTTP/1.1 GET /\r\n'))));
  t.deepEqual(decodeRequest(Buffer.from('TWCNI1\0tap\0CNI_COMMAND=ADD\0')), E.left('the request ends inside its environment'));
});

test('a response survives the wire; a truncated one is refused', (t) => {
  const res = { exitCode: 1, stdout: '{"code":7}\n', stderr: 'tap: note ü\n' };
  const wire = encodeResponse(res);
  t.deepEqual(decodeResponse(wire), E.right(res));
  t.true(E.isLeft(decodeResponse(wire.subarray(0, 12))));
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('keyedQueue: one key runs one task at a time in arrival order, other keys run alongside, a failure does not block the key', async (t) => {
  const q = keyedQueue();
  const running = new Map<string, number>();
  let most = 0;
  let mostPerKey = 0;
  const order: string[] = [];
  const task = (key: string, id: string, fail = false) => async () => {
    running.set(key, (running.get(key) ?? 0) + 1);
    most = Math.max(most, [...running.values()].reduce((a, b) => a + b, 0));
    mostPerKey = Math.max(mostPerKey, running.get(key) ?? 0);
    await sleep(5);
    order.push(id);
    running.set(key, (running.get(key) ?? 1) - 1);
    if (fail) throw new Error(id);
    return id;
  };
  const all = [
    q.run('a', task('a', 'a1')),
    q.run('a', task('a', 'a2', true)).catch((e: Error) => `failed ${e.message}`),
    q.run('a', task('a', 'a3')),
    q.run('b', task('b', 'b1')),
    q.run(undefined, task('-', 'free')),
  ];
  t.deepEqual(await Promise.all(all), ['a1', 'failed a2', 'a3', 'b1', 'free']);
  t.is(mostPerKey, 1);
  t.true(most >= 3, `at most ${most} tasks ran at once`);
  t.deepEqual(order.filter((o) => o.startsWith('a')), ['a1', 'a2', 'a3']);
  t.is(q.busy(), 0);
});
