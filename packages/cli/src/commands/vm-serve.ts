// The running VM of `vm start` and what it does on request: plug a link
// (hotAdd), unplug one (hotRemove), list its NICs, stop; the API socket serves
// these one at a time (a plug reads the free root port, then takes it).
import { createServer, type Server, type Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import { describeNetmodelError, detach, MODELS, type Model } from '@tapwire/netmodel';
import { describeHotAttachError, hotAdd, hotDetach, hotRemove, type HotAttached, type HotVmOf, type VmHandle } from '@tapwire/qemu';
import { describeSysError, resolveNetns, type NetnsHandle } from '@tapwire/sys';
import type { Output } from '../output.js';
import { VmRequestC, type VmRequest, type VmResponse } from './vm-api.js';
import { releaseVmDir, writeRecord, type VmNicRecord, type VmPaths, type VmRecord } from './vm-registry.js';

const GUEST_MS = 60_000;
const UNPLUG_MS = 20_000;

export interface Running {
  readonly name: string;
  readonly ns: NetnsHandle;
  readonly handle: VmHandle;
  readonly hot: HotVmOf;
  readonly paths: VmPaths;
  readonly plugged: { readonly id: string; readonly ns: NetnsHandle; readonly a: HotAttached; readonly model: Model; readonly queues: number }[];
  next: number;
}

const nicRecords = (r: Running): VmNicRecord[] =>
  r.plugged.map((p) => ({ id: p.id, netns: p.ns.spec, link: p.a.link, mac: p.a.mac, model: p.model, queues: p.queues, pciAddress: p.a.plugged.pciAddress ?? null }));

export const record = (r: Running): VmRecord => ({
  version: 1,
  name: r.name,
  netns: r.ns.spec,
  pid: process.pid,
  qemuPid: r.handle.pid,
  qmpSocket: r.paths.qmpSocket,
  apiSocket: r.paths.apiSocket,
  startedAt: new Date().toISOString(),
  nics: nicRecords(r),
});

export const add = async (r: Running, ns: NetnsHandle, link: string, model: Model, queues: number): Promise<E.Either<string, VmNicRecord>> => {
  const id = `hot${r.next++}`;
  const a = await hotAdd(r.handle, r.hot, ns, link, { nicId: id, model, queues, guestTimeoutMs: GUEST_MS, unplugTimeoutMs: UNPLUG_MS })();
  if (E.isLeft(a)) return E.left(describeHotAttachError(a.left));
  r.plugged.push({ id, ns, a: a.right, model, queues });
  writeRecord(r.paths, record(r));
  return E.right(nicRecords(r).at(-1) as VmNicRecord);
};

const remove = async (r: Running, link: string): Promise<E.Either<string, VmNicRecord>> => {
  const i = r.plugged.findIndex((p) => p.a.link === link || p.id === link);
  if (i < 0) return E.left(`no NIC for link ${link} in VM ${r.name} (has: ${r.plugged.map((p) => p.a.link).join(' ') || 'none'})`);
  const p = r.plugged[i] as Running['plugged'][number];
  const rec = nicRecords(r)[i] as VmNicRecord;
  const d = await hotRemove(r.handle, r.hot, p.ns, p.a, { unplugTimeoutMs: UNPLUG_MS, guestTimeoutMs: GUEST_MS })();
  // Unplugged but the guest's answer failed: the NIC is out of QEMU either way.
  if (E.isLeft(d) && d.left._tag === 'Hotplug') return E.left(describeHotAttachError(d.left));
  r.plugged.splice(i, 1);
  writeRecord(r.paths, record(r));
  return E.isLeft(d) ? E.left(`unplugged, but: ${describeHotAttachError(d.left)}`) : E.right(rec);
};

/** Every NIC out (endpoint detached even if the guest does not let go), then QEMU. */
export const shutdown = async (r: Running, io: Output): Promise<void> => {
  for (const p of [...r.plugged].reverse()) {
    const d = r.handle.qmp.closed() ? E.right(undefined) : await hotDetach(r.hot, p.ns, p.a, { unplugTimeoutMs: 5_000, guestTimeoutMs: 5_000 })();
    if (E.isLeft(d) && p.a.attachment !== undefined) {
      io.err(`vm ${r.name}: ${p.a.link}: ${describeHotAttachError(d.left)}; detaching it anyway`);
      const x = await detach(p.ns, p.a.attachment)();
      if (E.isLeft(x)) io.err(`vm ${r.name}: detach ${p.a.link}: ${describeNetmodelError(x.left)}`);
    }
  }
  r.plugged.splice(0);
  r.hot.close();
  await r.handle.stop(5_000)();
  releaseVmDir(r.paths);
};

const answer = (sock: Socket, res: VmResponse): void => {
  sock.end(`${JSON.stringify(res)}\n`);
};

export const checkModel = (m: string): m is Model => (MODELS as readonly string[]).includes(m);

export const serve = (r: Running, stop: () => void): Server => {
  // One request at a time: plugs read the free port, then take it.
  let turn: Promise<unknown> = Promise.resolve();
  const handle = async (req: VmRequest): Promise<VmResponse> => {
    switch (req.op) {
      case 'nics':
        return { ok: true, result: nicRecords(r) };
      case 'stop':
        stop();
        return { ok: true, result: { stopping: r.name } };
      case 'remove': {
        const x = await remove(r, req.link);
        return E.isLeft(x) ? { ok: false, error: x.left, exit: 1 } : { ok: true, result: x.right };
      }
      case 'add': {
        if (!checkModel(req.model)) return { ok: false, error: `model ${JSON.stringify(req.model)}: expected one of ${MODELS.join(', ')}`, exit: 2 };
        const ns = resolveNetns(req.netns);
        if (E.isLeft(ns)) return { ok: false, error: describeSysError(ns.left), exit: 3 };
        const x = await add(r, ns.right, req.link, req.model, req.queues);
        return E.isLeft(x) ? { ok: false, error: x.left, exit: 1 } : { ok: true, result: x.right };
      }
    }
  };
  return createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        return answer(sock, { ok: false, error: 'not JSON', exit: 2 });
      }
      const req = VmRequestC.decode(json);
      if (E.isLeft(req)) return answer(sock, { ok: false, error: 'not a VM request', exit: 2 });
      turn = turn.then(() => handle(req.right).then((res) => answer(sock, res)));
    });
  });
};

