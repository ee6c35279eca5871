// A runtime after a restart, as a separate process: reload the saved NIC
// state from a file, connect to the VM's QMP socket, check the state against
// the netns and query-pci, print the result as JSON. Used by start.test.ts.
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns } from '@tapwire/sys';
import { decodeNicState, describeDrift } from '@tapwire/vm';
import { connectQmp } from '../../launch/qmp.js';
import { checkVmNicState } from '../check.js';

const [path] = process.argv.slice(2);
const fail = (why: string): never => {
  process.stdout.write(`${JSON.stringify({ error: why })}\n`);
  process.exit(1);
};
const state = decodeNicState(readFileSync(path ?? '', 'utf8'), path ?? '');
if (E.isLeft(state)) fail(JSON.stringify(state.left));
const s = (state as E.Right<import('@tapwire/vm').NicState>).right;
const ns = resolveNetns(s.netns);
if (E.isLeft(ns)) fail(JSON.stringify(ns.left));
const socket = s.vm?.qmpSocket;
const qmp = socket === undefined ? undefined : await connectQmp(socket, 5_000);
if (qmp !== undefined && E.isLeft(qmp)) fail(JSON.stringify(qmp.left));
const q = qmp === undefined ? undefined : (qmp as E.Right<import('../../launch/qmp.js').Qmp>).right;
const r = await checkVmNicState((ns as E.Right<import('@tapwire/sys').NetnsHandle>).right, s, q)();
q?.close();
if (E.isLeft(r)) fail(JSON.stringify(r.left));
const check = (r as E.Right<import('@tapwire/vm').NicStateCheck>).right;
process.stdout.write(`${JSON.stringify({ ok: check.ok, drift: check.drift.map((d) => ({ tag: d._tag, text: describeDrift(d) })) })}\n`);
