// SCM_RIGHTS without QEMU (qemu's qmp-getfd test passes fds to a real one):
// bad input is refused by name, a missing socket is ENOENT, the bytes arrive,
// and nothing leaks fds.
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { connectUnixStream, MAX_FDS_PER_MESSAGE, sendWithFds } from './scm-rights.js';

const fdCount = (): number => readdirSync('/proc/self/fd').length;

test('bad paths and fd lists are refused, a missing socket is ENOENT', (t) => {
  t.like(connectUnixStream(''), { _tag: 'Left', left: { _tag: 'BadInput' } });
  t.like(connectUnixStream(`/tmp/${'x'.repeat(200)}`), { _tag: 'Left', left: { _tag: 'BadInput' } });
  t.like(connectUnixStream('/nonexistent/tapwire.sock'), { _tag: 'Left', left: { _tag: 'SyscallFailed', call: 'connect', code: 'ENOENT' } });
  t.like(sendWithFds(0, Buffer.from('x'), Array.from({ length: MAX_FDS_PER_MESSAGE + 1 }, () => 0)), { _tag: 'Left', left: { _tag: 'BadInput' } });
  t.like(sendWithFds(0, Buffer.from('x'), [-1]), { _tag: 'Left', left: { _tag: 'BadInput' } });
  t.like(sendWithFds(0, Buffer.alloc(0), []), { _tag: 'Left', left: { _tag: 'BadInput' } });
});

test.serial('bytes sent with fds attached arrive, and 200 rounds leak no fd', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-scm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 's.sock');
  let received = '';
  const server = createServer((s) => {
    s.setEncoding('utf8');
    s.on('data', (c: string) => (received += c));
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.teardown(() => server.close());
  const passed = openSync(join(dir, 'f'), 'w');
  t.teardown(() => closeSync(passed));
  const before = fdCount();
  for (let i = 0; i < 200; i++) {
    const fd = connectUnixStream(path);
    if (E.isLeft(fd)) return t.fail(JSON.stringify(fd.left));
    const sent = sendWithFds(fd.right, Buffer.from(`${i}\n`), [passed, passed]);
    t.true(E.isRight(sent));
    closeSync(fd.right);
  }
  for (let i = 0; i < 50 && received.split('\n').length < 201; i++) await new Promise((r) => setTimeout(r, 20));
  t.is(received.split('\n').filter((l) => l !== '').length, 200);
  // The server's sockets may still be closing: give them a moment.
  for (let i = 0; i < 50 && fdCount() !== before; i++) await new Promise((r) => setTimeout(r, 20));
  t.is(fdCount(), before, 'our fd table is as before (the passed copies went to the peer, which Node drops)');
});
