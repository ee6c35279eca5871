// fd passing on a real QEMU (no guest: -machine none starts in milliseconds):
// getfd must give QEMU its own copy of our fd (it shows in /proc/<qemu>/fd,
// same file), closefd must take it away, and our copy stays ours.
import { mkdtempSync, openSync, closeSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { requireCommand } from '@tapwire/testkit';
import { connectQmp, describeQmpError } from './qmp.js';

const fdTargets = (pid: number): string[] =>
  readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return [];
    }
  });

test('getfd passes our fd to QEMU over QMP, closefd takes it back', async (t) => {
  if (!requireCommand(t, 'qemu-system-x86_64')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tw-getfd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'qmp.sock');
  const qemu = execa('qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-display', 'none', '-chardev', `socket,id=qmp,path=${sock},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control'], { reject: false });
  t.teardown(() => {
    qemu.kill('SIGKILL');
  });
  const file = join(dir, 'passed-file');
  writeFileSync(file, 'x');
  const fd = openSync(file, 'r');
  t.teardown(() => closeSync(fd));
  const qmp = await connectQmp(sock, 10_000);
  if (E.isLeft(qmp)) return t.fail(describeQmpError(qmp.left));
  t.teardown(() => qmp.right.close());
  const pid = qemu.pid ?? 0;
  t.false(fdTargets(pid).includes(file));
  const got = await qmp.right.executeWithFds('getfd', { fdname: 'f0' }, [fd], { timeoutMs: 5000 });
  t.true(E.isRight(got), E.isLeft(got) ? describeQmpError(got.left) : '');
  t.true(fdTargets(pid).includes(file), 'QEMU holds a copy of the passed fd');
  // The connection goes on working as before.
  const st = await qmp.right.execute('query-status', undefined, { timeoutMs: 5000 });
  t.true(E.isRight(st));
  const closed = await qmp.right.execute('closefd', { fdname: 'f0' }, { timeoutMs: 5000 });
  t.true(E.isRight(closed));
  t.false(fdTargets(pid).includes(file), 'closefd closed QEMU\'s copy');
  const again = await qmp.right.execute('closefd', { fdname: 'f0' }, { timeoutMs: 5000 });
  t.true(E.isLeft(again) && again.left._tag === 'QmpCommand');
  // getfd without an fd attached is QEMU's error, not a hang.
  const none = await qmp.right.executeWithFds('getfd', { fdname: 'f1' }, [], { timeoutMs: 5000 });
  t.true(E.isLeft(none) && none.left._tag === 'QmpCommand', E.isLeft(none) ? describeQmpError(none.left) : 'accepted');
});
