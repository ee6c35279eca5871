// The boot batch of a guest booted with tapwire.control=1 (guest-boot-config.ts):
// connect to the VM's control socket, wait for the guest's TAPWIRE-CONTROL
// line (it then reads the port), write the batch. QEMU holds what is written
// until the guest opens the port, so an early write is not lost; waiting for
// the line only keeps a wedged guest from being blamed on the socket.
// Everything ends when `until` aborts (the VM was stopped): no timer outlives it.
import { connect, type Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import type { VmHandle } from '../vm/handle.js';

const CONTROL_READY = /TAPWIRE-CONTROL \S+/;
const RETRY_MS = 50;
/** QEMU made the socket before it answered QMP: a few retries cover a slow accept. */
const CONNECT_MS = 5_000;

export interface BootBatchSender {
  /** Right once the batch is written; Left with why not (never after `until` aborted: then 'stopped'). */
  readonly sent: Promise<E.Either<string, void>>;
  /** Closes the connection (after the VM is gone). */
  readonly close: () => void;
}

const connectOnce = (socket: string): Promise<E.Either<string, Socket>> =>
  new Promise((resolve) => {
    const s = connect(socket);
    s.once('connect', () => resolve(E.right(s)));
    s.once('error', (e) => resolve(E.left(e.message)));
  });

export const sendBootBatch = (vm: Pick<VmHandle, 'console'>, socket: string, lines: readonly string[], until: AbortSignal): BootBatchSender => {
  let conn: Socket | undefined;
  const sent = (async (): Promise<E.Either<string, void>> => {
    const deadline = Date.now() + CONNECT_MS;
    for (;;) {
      if (until.aborted) return E.left('stopped');
      const c = await connectOnce(socket);
      if (E.isRight(c)) {
        conn = c.right;
        break;
      }
      if (Date.now() >= deadline) return E.left(`control socket ${socket}: ${c.left}`);
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
    const open = conn;
    open.on('error', () => undefined);
    // The guest never writes on the port; anything read is dropped.
    open.resume();
    const ready = await new Promise<boolean>((resolve) => {
      let seen = '';
      const finish = (ok: boolean) => {
        off();
        until.removeEventListener('abort', onStop);
        resolve(ok);
      };
      const onStop = () => finish(false);
      const take = (chunk: string) => {
        seen += chunk;
        if (CONTROL_READY.test(seen)) finish(true);
      };
      let off = () => undefined as void;
      for (const chunk of vm.console.history()) seen += chunk;
      if (CONTROL_READY.test(seen)) return resolve(true);
      off = vm.console.on(take);
      until.addEventListener('abort', onStop);
      if (until.aborted) onStop();
    });
    if (!ready) return E.left('stopped');
    return new Promise((resolve) => {
      open.write(lines.map((l) => `${l}\n`).join(''), (err) => resolve(err === undefined || err === null ? E.right(undefined) : E.left(`control socket ${socket}: ${err.message}`)));
    });
  })();
  return { sent, close: () => conn?.destroy() };
};

const FIRST_PASS_REPORT = /TAPWIRE-(ROUTING|DONE)\b/;

/**
 * Pure: the console of a control-channel boot as the pod's report. The
 * guest's first pass (before TAPWIRE-CONTROL) configured no NIC: its routing
 * check and DONE are not about the pod (and guest/init prints a routing check
 * of zero routes as "routes=" with no number). They are left out, and that
 * DONE is put back right after the batch's TAPWIRE-APPLIED, where the pod's
 * config was done; everything else (START, errors, kernel lines) stays.
 */
export const podReportOf = (console: string, tag: string): string => {
  const lines = console.split('\n');
  const controlAt = lines.findIndex((l) => l.includes('TAPWIRE-CONTROL '));
  if (controlAt < 0) return console;
  const before = lines.slice(0, controlAt);
  const done = before.find((l) => l.includes('TAPWIRE-DONE'));
  const after = lines.slice(controlAt);
  const appliedAt = after.findIndex((l) => new RegExp(`TAPWIRE-APPLIED ${tag}\\b`).test(l));
  const kept = before.filter((l) => !FIRST_PASS_REPORT.test(l));
  if (appliedAt < 0 || done === undefined) return [...kept, ...after].join('\n');
  return [...kept, ...after.slice(0, appliedAt + 1), done, ...after.slice(appliedAt + 1)].join('\n');
};
