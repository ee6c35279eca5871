// NIC hotplug and unplug on a real TCG guest, one VM for the whole file (boots
// are slow): a tcfilter endpoint with 2 queues, then a macvtap, each plugged
// in, pinged through by the guest, unplugged, reported gone by the guest, and
// the netns as before; a failure injected at each plug step leaves the VM and
// the netns as before; 20 plug/unplug cycles leak no fd in QEMU or here.
import { readdirSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireCommand, requireRoot } from '@tapwire/testkit';
import { describeHotAttachError, hotAttach, hotAttachWith, hotDetach, type HotAttachFaults, type HotAttachOptions } from './hot-attach.js';
import { readPci } from './pci.js';
import { unplugNic } from './plug.js';
import { bootTestVm, type TestVm } from './testing/boot.js';
import { fingerprint, makeTestPod, MACVTAP_MAC, MACVTAP_PEER, VETH_MAC, VETH_PEER, type TestPod } from './testing/pod.js';

let vm: TestVm | undefined;
let pod: TestPod | undefined;
let setupError: string | undefined;

test.before(async () => {
  if (process.getuid?.() !== 0) return;
  try {
    pod = await makeTestPod('p');
    vm = await bootTestVm(pod.ns, { ports: 4, cpus: 2 });
  } catch (e) {
    setupError = e instanceof Error ? e.message : String(e);
  }
});

test.after.always(async () => {
  await vm?.stop();
  await pod?.remove();
});

const ready = (t: ExecutionContext): { vm: TestVm; pod: TestPod } | undefined => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return undefined;
  if (setupError !== undefined || vm === undefined || pod === undefined) {
    t.fail(`setup: ${setupError ?? 'no VM'}`);
    return undefined;
  }
  return { vm, pod };
};

const fdCount = (pid: number | 'self'): number => readdirSync(`/proc/${pid}/fd`).length;
const portsInUse = async (v: TestVm): Promise<string[]> => {
  const pci = await readPci(v.handle.qmp, 10_000)();
  return E.isRight(pci) ? pci.right.ports.flatMap((p) => p.devices.map((d) => `${p.id}:${d}`)) : ['query-pci failed'];
};

const roundTrip = async (t: ExecutionContext, link: string, mac: string, peer: string, o: HotAttachOptions) => {
  const r = ready(t);
  if (r === undefined) return;
  const before = await fingerprint(r.pod.ns);
  const qemuFds = fdCount(r.vm.handle.pid);
  const t0 = Date.now();
  const plugged = await hotAttach(r.vm.hot, r.pod.ns, link, { ...o, ping: [peer] })();
  if (E.isLeft(plugged)) return t.fail(describeHotAttachError(plugged.left));
  t.log(`${link}: plugged and pinged in ${Date.now() - t0} ms at ${plugged.right.plugged.pciAddress ?? '?'} (port ${plugged.right.plugged.port})`);
  t.is(plugged.right.mac, mac);
  const ping = plugged.right.guest.find((e) => e._tag === 'PingOk' || e._tag === 'PingFail');
  t.is(ping?._tag, 'PingOk', JSON.stringify(plugged.right.guest));
  const up = plugged.right.guest.find((e) => e._tag === 'NicState');
  t.true(up?._tag === 'NicState' && up.state === 'up');
  const queues = plugged.right.guest.find((e) => e._tag === 'Queues');
  if (o.queues > 1) t.true(queues?._tag === 'Queues' && queues.count === o.queues, JSON.stringify(queues));
  // A macvtap endpoint is handed over as it is (model none): nothing changes in the netns.
  if (plugged.right.attachment?.model !== 'none') t.not(await fingerprint(r.pod.ns), before, 'the endpoint is attached while plugged');
  const t1 = Date.now();
  const out = await hotDetach(r.vm.hot, r.pod.ns, plugged.right)();
  if (E.isLeft(out)) return t.fail(describeHotAttachError(out.left));
  t.log(`${link}: unplugged and confirmed gone in ${Date.now() - t1} ms`);
  t.true(out.right.guestConfirmed);
  t.is(await fingerprint(r.pod.ns), before, 'the netns is as before');
  t.deepEqual(await portsInUse(r.vm), []);
  t.is(fdCount(r.vm.handle.pid), qemuFds, 'QEMU holds no fd more than before');
};

test.serial('a tcfilter endpoint with 2 queues: plugged, the guest pings through it, unplugged, reported gone, netns as before', (t) =>
  roundTrip(t, 'vA', VETH_MAC, VETH_PEER, { nicId: 'hot1', model: 'tcfilter', queues: 2 }),
);

test.serial('a macvtap endpoint: plugged, pinged through, unplugged, reported gone, netns as before', (t) =>
  roundTrip(t, 'mv0', MACVTAP_MAC, MACVTAP_PEER, { nicId: 'hot2', model: 'tcfilter', queues: 1 }),
);

const FAULTS: readonly (HotAttachFaults & { readonly name: string })[] = [
  { name: 'first getfd', failAt: 'getfd', occurrence: 1 },
  { name: 'last getfd', failAt: 'getfd' },
  { name: 'netdev_add', failAt: 'netdev_add' },
  { name: 'device_add', failAt: 'device_add' },
  { name: 'the guest', failGuest: true },
];

test.serial('a failure injected at each plug step leaves the VM and the netns as before', async (t) => {
  const r = ready(t);
  if (r === undefined) return;
  for (const f of FAULTS) {
    const before = await fingerprint(r.pod.ns);
    const qemuFds = fdCount(r.vm.handle.pid);
    const ours = fdCount('self');
    const res = await hotAttachWith(r.vm.hot, r.pod.ns, 'vA', { nicId: 'fault', model: 'tcfilter', queues: 2 }, f)();
    t.true(E.isLeft(res), `${f.name}: refused`);
    if (E.isLeft(res)) t.log(`${f.name}: ${describeHotAttachError(res.left)}`);
    t.is(await fingerprint(r.pod.ns), before, `${f.name}: netns as before`);
    t.deepEqual(await portsInUse(r.vm), [], `${f.name}: no device left`);
    t.is(fdCount(r.vm.handle.pid), qemuFds, `${f.name}: no fd left in QEMU`);
    t.is(fdCount('self'), ours, `${f.name}: no fd left here`);
    const netdevs = await r.vm.handle.qmp.execute('netdev_del', { id: 'fault' }, { timeoutMs: 5000 });
    t.true(E.isLeft(netdevs), `${f.name}: no netdev left`);
  }
});

test.serial('20 plug/unplug cycles leak no fd in QEMU or in this process', async (t) => {
  const r = ready(t);
  if (r === undefined) return;
  const qemuFds = fdCount(r.vm.handle.pid);
  const ours = fdCount('self');
  const plugMs: number[] = [];
  const unplugMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = Date.now();
    const p = await hotAttach(r.vm.hot, r.pod.ns, 'vA', { nicId: `cyc${i}`, model: 'tcfilter', queues: 2 })();
    if (E.isLeft(p)) return t.fail(`cycle ${i}: ${describeHotAttachError(p.left)}`);
    plugMs.push(Date.now() - t0);
    const t1 = Date.now();
    const d = await hotDetach(r.vm.hot, r.pod.ns, p.right)();
    if (E.isLeft(d)) return t.fail(`cycle ${i}: ${describeHotAttachError(d.left)}`);
    unplugMs.push(Date.now() - t1);
  }
  t.log(`plug ms: ${plugMs.join(' ')}; unplug ms: ${unplugMs.join(' ')}`);
  t.is(fdCount(r.vm.handle.pid), qemuFds, 'QEMU fds as before');
  t.is(fdCount('self'), ours, 'our fds as before');
});

test.serial('a guest that does not release the device: UnplugTimeout, the NIC stays whole; once it runs again the unplug goes through', async (t) => {
  const r = ready(t);
  if (r === undefined) return;
  const before = await fingerprint(r.pod.ns);
  const plugged = await hotAttach(r.vm.hot, r.pod.ns, 'vA', { nicId: 'stuck', model: 'tcfilter', queues: 1 })();
  if (E.isLeft(plugged)) return t.fail(describeHotAttachError(plugged.left));
  // A paused guest cannot answer the hot-unplug request.
  t.true(E.isRight(await r.vm.handle.qmp.execute('stop', undefined, { timeoutMs: 5000 })));
  const stuck = await unplugNic(r.vm.handle.qmp, plugged.right.plugged, { accel: 'tcg', unplugTimeoutMs: 2000 })();
  t.true(E.isLeft(stuck) && stuck.left._tag === 'UnplugTimeout', JSON.stringify(stuck));
  if (E.isLeft(stuck)) t.log(describeHotAttachError({ _tag: 'Hotplug', error: stuck.left }));
  t.deepEqual(await portsInUse(r.vm), [`${plugged.right.plugged.port}:stuck`], 'the device is still there');
  t.true(E.isRight(await r.vm.handle.qmp.execute('cont', undefined, { timeoutMs: 5000 })));
  const out = await hotDetach(r.vm.hot, r.pod.ns, plugged.right)();
  if (E.isLeft(out)) return t.fail(describeHotAttachError(out.left));
  t.deepEqual(await portsInUse(r.vm), []);
  t.is(await fingerprint(r.pod.ns), before);
});
