// The runtime after a restart, as its own process: reload the saved NicState,
// check it against the netns and the VM (query-pci), unplug every NIC over a
// fresh QMP connection and detach the endpoints. Prints one JSON line.
//   node restart-child.js STATE_FILE
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { detach, describeNetmodelError } from '@tapwire/netmodel';
import { describeSysError, resolveNetns } from '@tapwire/sys';
import { decodeNicState, describeDrift, describeVmError } from '@tapwire/vm';
import { connectQmp, describeQmpError } from '../../launch/qmp.js';
import { checkVmNicState } from '../../vm/check.js';
import { describeHotplugError } from '../errors.js';
import { unplugNic } from '../plug.js';
import { pluggedOfNicSpec } from '../state.js';

const fail = (why: string): never => {
  process.stdout.write(`${JSON.stringify({ ok: false, why })}\n`);
  process.exit(1);
};

const main = async (): Promise<void> => {
  const file = process.argv[2] ?? fail('no state file');
  const state = decodeNicState(readFileSync(file, 'utf8'), file);
  if (E.isLeft(state)) return fail(describeVmError(state.left));
  const ns = resolveNetns(state.right.netns);
  if (E.isLeft(ns)) return fail(describeSysError(ns.left));
  const socket = state.right.vm?.qmpSocket ?? fail('no QMP socket in the state');
  const qmp = await connectQmp(socket, 10_000);
  if (E.isLeft(qmp)) return fail(describeQmpError(qmp.left));
  const check = await checkVmNicState(ns.right, state.right, qmp.right)();
  if (E.isLeft(check)) return fail(JSON.stringify(check.left));
  const unplugged: string[] = [];
  for (const n of state.right.nics) {
    const r = await unplugNic(qmp.right, pluggedOfNicSpec(n), { accel: 'tcg', unplugTimeoutMs: 60_000 })();
    if (E.isLeft(r)) return fail(describeHotplugError(r.left));
    unplugged.push(n.id);
  }
  for (const a of state.right.attachments) {
    const r = await detach(ns.right, a)();
    if (E.isLeft(r)) return fail(describeNetmodelError(r.left));
  }
  qmp.right.close();
  process.stdout.write(`${JSON.stringify({ ok: true, check: { ok: check.right.ok, drift: check.right.drift.map(describeDrift) }, unplugged })}\n`);
};

void main();
