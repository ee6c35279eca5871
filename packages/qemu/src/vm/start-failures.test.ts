// How startVm and stop() treat QEMUs that misbehave: a small node program
// speaking just enough QMP plays them (no guest, no netns wiring needed).
// Whatever happens, no process is left.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { processAlive, resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireRoot } from '@tapwire/testkit';
import { startVm } from './start.js';

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
  const dir = mkdtempSync(join(tmpdir(), 'tw-startf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const made = await makeNetns(t, 'twsf');
  const ns = resolveNetns(made.name);
  if (E.isLeft(ns)) throw new Error(JSON.stringify(ns.left));
  return { ns: ns.right, dir, socket: join(dir, 'qmp.sock') };
};

const stub = (dir: string, socket: string, status: string): string[] => {
  const script = join(dir, 'stub-qmp.mjs');
  writeFileSync(script, STUBBORN_QMP);
  return [process.execPath, script, socket, status];
};


test('a QEMU that ignores quit is killed once the grace period is over', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, dir, socket } = await setup(t);
  const r = await startVm({ ns, argv: stub(dir, socket, 'running'), qmpSocket: socket, readyWithinMs: 5000 })();
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  t.teardown(async () => {
    await r.right.stop(0)();
  });
  t.is(r.right.version, '7.2.22');
  const began = Date.now();
  const exit = await r.right.stop(700)();
  t.like(exit, { _tag: 'Right', right: { stoppedBy: 'kill', signal: 'SIGKILL' } });
  t.true(Date.now() - began >= 650, 'the grace period was given');
  t.false(processAlive(r.right.pid));
});

test('no QMP by the deadline: not ready, typed, and the process is gone', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, socket } = await setup(t);
  const began = Date.now();
  const r = await startVm({ ns, argv: ['sleep', '60'], qmpSocket: socket, readyWithinMs: 400 })();
  t.like(r, { _tag: 'Left', left: { _tag: 'VmNotReady', cause: { _tag: 'QmpConnect', socket } } });
  t.true(Date.now() - began < 5000);
});

test('a VM that is not running is not ready', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, dir, socket } = await setup(t);
  const r = await startVm({ ns, argv: stub(dir, socket, 'paused'), qmpSocket: socket, readyWithinMs: 5000 })();
  t.like(r, { _tag: 'Left', left: { _tag: 'VmNotReady', cause: { _tag: 'QmpNotRunning', socket, status: 'paused' } } });
});

test('a QEMU that exits by itself is reported by its exit and stderr, not as a QMP failure', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, socket } = await setup(t);
  const began = Date.now();
  const r = await startVm({ ns, argv: ['sh', '-c', 'echo no such option >&2; exit 1'], qmpSocket: socket, readyWithinMs: 5000 })();
  t.like(r, { _tag: 'Left', left: { _tag: 'VmStartFailed', stderr: 'no such option' } });
  t.true(Date.now() - began < 2000, 'QMP stopped waiting when the process exited');
});

test('an aborted signal fails the start and kills what was started', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, socket } = await setup(t);
  const ac = new AbortController();
  setTimeout(() => ac.abort('changed my mind'), 200);
  const r = await startVm({ ns, argv: ['sleep', '60'], qmpSocket: socket, readyWithinMs: 10_000, signal: ac.signal })();
  t.like(r, { _tag: 'Left', left: { _tag: 'Aborted', reason: 'changed my mind' } });
});
