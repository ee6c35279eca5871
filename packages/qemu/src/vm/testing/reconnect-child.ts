// A restarted runtime, as a separate process: find the VM again from its pid
// and QMP socket, ask it something, stop it, print what happened as JSON.
// Used by reconnect.test.ts.
import * as E from 'fp-ts/lib/Either.js';
import { reconnectVm } from '../reconnect.js';

const [pid, qmpSocket] = process.argv.slice(2);
const r = await reconnectVm({ pid: Number(pid), qmpSocket: qmpSocket ?? '', readyWithinMs: 10_000 })();
if (E.isLeft(r)) {
  process.stdout.write(`${JSON.stringify({ error: r.left })}\n`);
  process.exit(1);
}
const vm = r.right;
const status = await vm.qmp.execute('query-status');
const exit = await vm.stop(5_000)();
process.stdout.write(`${JSON.stringify({ version: vm.version, status: E.isRight(status) ? status.right : null, exit: E.isRight(exit) ? exit.right : null, lastEvent: vm.events.history().at(-1)?.kind })}\n`);
