// How spawnVm ends a QEMU through QMP: quit first, SIGKILL only when quit is
// ignored, and a stop (typed) when QMP never answers or the VM does not run.
// A real QEMU with no machine shows the polite path; a small node program
// speaking just enough QMP plays the QEMUs that misbehave.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';
import { spawnVm, type QmpReadiness } from './spawn-vm.js';

/** Greets, negotiates, answers query-status with `status`, and ignores quit. */
const STUBBORN_QMP = `
import { createServer } from 'node:net';
const [socket, status] = process.argv.slice(2);
createServer((s) => {
  s.write(JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 } }, capabilities: [] } }) + '\\n');
  s.setEncoding('utf8');
  s.on('data', (chunk) => {
    for (const line of chunk.split('\\n').filter(Boolean)) {
      const { execute, id } = JSON.parse(line);
      if (execute === 'quit') continue;
      const ret = execute === 'query-status' ? { status, running: status === 'running' } : {};
      s.write(JSON.stringify({ return: ret, id }) + '\\n');
    }
  });
}).listen(socket);
setInterval(() => undefined, 1000);
`;

const setup = async (t: ExecutionContext): Promise<{ ns: NetnsHandle; dir: string; socket: string }> => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-spawn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const made = await makeNetns(t, 'twsv');
  const ns = resolveNetns(made.name);
  if (E.isLeft(ns)) throw new Error(JSON.stringify(ns.left));
  return { ns: ns.right, dir, socket: join(dir, 'qmp.sock') };
};

const stub = (dir: string, socket: string, status: string): string[] => {
  const script = join(dir, 'stub-qmp.mjs');
  writeFileSync(script, STUBBORN_QMP);
  return [process.execPath, script, socket, status];
};

test('a real QEMU is ready on QMP and leaves on quit, without SIGKILL', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  const { ns, socket } = await setup(t);
  const seen: QmpReadiness[] = [];
  const run = await spawnVm({
    ns,
    argv: ['qemu-system-x86_64', '-machine', 'none', '-nodefaults', '-display', 'none', '-chardev', `socket,id=qmp,path=${socket},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control'],
    fds: [],
    timeoutMs: 1500,
    qmp: { socket, readyWithinMs: 10_000, quitGraceMs: 5000, onReady: (r) => seen.push(r) },
  });
  t.like(run.qmp, { _tag: 'Right', right: { status: 'running' } });
  if (run.qmp !== undefined && E.isRight(run.qmp)) t.regex(run.qmp.right.version, /^\d+\.\d+\.\d+$/);
  t.deepEqual(seen, [run.qmp]);
  t.is(run.stoppedBecause, 'timeout');
  t.deepEqual([run.exitCode, run.signal], [0, undefined], run.stderr);
  t.true(run.ms < 5000, 'quit, not the grace period, ended it');
});

test('a QEMU that ignores quit is killed once the grace period is over', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, dir, socket } = await setup(t);
  const run = await spawnVm({ ns, argv: stub(dir, socket, 'running'), fds: [], timeoutMs: 1000, qmp: { socket, readyWithinMs: 5000, quitGraceMs: 700 } });
  t.like(run.qmp, { _tag: 'Right', right: { version: '7.2.22', status: 'running' } });
  t.is(run.stoppedBecause, 'timeout');
  t.is(run.signal, 'SIGKILL');
  t.true(run.ms >= 1700, `${run.ms} ms: the grace period was given`);
});

test('no QMP by the deadline: QEMU is stopped as unready with a typed error', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, socket } = await setup(t);
  const run = await spawnVm({ ns, argv: ['sleep', '60'], fds: [], timeoutMs: 30_000, qmp: { socket, readyWithinMs: 400, quitGraceMs: 1000 } });
  t.is(run.stoppedBecause, 'unready');
  t.like(run.qmp, { _tag: 'Left', left: { _tag: 'QmpConnect', socket } });
  t.is(run.signal, 'SIGKILL');
  t.true(run.ms < 5000);
});

test('a VM that is not running is not ready', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, dir, socket } = await setup(t);
  const run = await spawnVm({ ns, argv: stub(dir, socket, 'paused'), fds: [], timeoutMs: 30_000, qmp: { socket, readyWithinMs: 5000, quitGraceMs: 300 } });
  t.is(run.stoppedBecause, 'unready');
  t.deepEqual(run.qmp, E.left({ _tag: 'QmpNotRunning', socket, status: 'paused' }));
  t.is(run.signal, 'SIGKILL');
});

test('a QEMU that exits by itself is reported by its exit, not as a QMP failure', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, socket } = await setup(t);
  const run = await spawnVm({ ns, argv: ['sh', '-c', 'echo no such option >&2; exit 1'], fds: [], timeoutMs: 30_000, qmp: { socket, readyWithinMs: 5000, quitGraceMs: 300 } });
  t.is(run.stoppedBecause, undefined);
  t.is(run.qmp, undefined);
  t.is(run.exitCode, 1);
  t.regex(run.stderr, /no such option/);
  t.true(run.ms < 2000, 'QMP stopped waiting when the process exited');
});
