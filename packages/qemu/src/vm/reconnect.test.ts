// A VM that outlives the process that started it, found again by another
// process (a restarted runtime) from its pid and QMP socket, and stopped there.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { processAlive, resolveNetns } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';
import { describeQemuError } from '../errors.js';
import { reconnectVm } from './reconnect.js';
import { startVm } from './start.js';

const CHILD = fileURLToPath(new URL('./testing/reconnect-child.js', import.meta.url));
const run = promisify(execFile);


test('a VM started to outlive us is found again by another process and stopped there', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  const made = await makeNetns(t, 'twrc');
  const ns = resolveNetns(made.name);
  if (E.isLeft(ns)) return t.fail(JSON.stringify(ns.left));
  const dir = mkdtempSync(join(tmpdir(), 'tw-vmrc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const qmpSocket = join(dir, 'qmp.sock');
  const argv = ['qemu-system-x86_64', '-machine', 'none', '-nodefaults', '-display', 'none', '-chardev', `socket,id=qmp,path=${qmpSocket},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control'];
  const r = await startVm({ ns: ns.right, argv, qmpSocket, serialLog: join(dir, 'serial.log'), outlive: true, readyWithinMs: 30_000 })();
  if (E.isLeft(r)) return t.fail(describeQemuError(r.left));
  const vm = r.right;
  t.teardown(() => {
    if (processAlive(vm.pid)) process.kill(vm.pid, 'SIGKILL');
  });
  t.is(Number((await run('ps', ['-o', 'pgid=', '-p', String(vm.pid)])).stdout.trim()), vm.pid, 'QEMU leads its own process group');

  const refused = await reconnectVm({ pid: vm.pid, qmpSocket, readyWithinMs: 1_000 })();
  t.like(refused, { left: { _tag: 'VmNotReady' } }, 'one QMP client at a time: the first handle still holds it');
  t.true(processAlive(vm.pid), 'a VM we could not talk to is left running');

  // The old runtime lets go; a new one finds the VM and stops it.
  vm.qmp.close();
  const out = await run(process.execPath, [CHILD, String(vm.pid), qmpSocket], { timeout: 60_000 });
  const seen = JSON.parse(out.stdout) as { version: string; status: { status: string }; exit: { stoppedBy: string }; lastEvent: string };
  t.regex(seen.version, /^\d+\.\d+\.\d+$/);
  t.is(seen.status.status, 'running');
  t.is(seen.exit.stoppedBy, 'quit');
  t.is(seen.lastEvent, 'exit');
  const exit = await vm.exited;
  t.is(exit.exitCode, 0, 'QEMU quit by itself');
  t.false(processAlive(vm.pid));
  t.like(await reconnectVm({ pid: vm.pid, qmpSocket })(), { left: { _tag: 'VmStartFailed' } }, 'a gone VM is said to be gone');
});
