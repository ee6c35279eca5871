// A runtime restart in the middle: a NIC is hotplugged, its state saved with
// @tapwire/vm's codec, and this process lets go of QMP and the control port
// (as a dying runtime would). A new process reloads the state, checks it
// against the netns and the VM (no drift), unplugs the NIC over its own QMP
// connection and detaches the endpoint; the netns ends as before and the VM
// has no device left behind its ports.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { requireCommand, requireRoot } from '@tapwire/testkit';
import { encodeNicState, NIC_STATE_VERSION } from '@tapwire/vm';
import { connectQmp, describeQmpError } from '../launch/qmp.js';
import { describeHotAttachError, hotAttach } from './hot-attach.js';
import { readPci } from './pci.js';
import { bootTestVm } from './testing/boot.js';
import { fingerprint, makeTestPod, VETH_PEER } from './testing/pod.js';

const CHILD = fileURLToPath(new URL('./testing/restart-child.js', import.meta.url));

test('save state, a new process reloads and checks it, then unplugs and detaches', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  const pod = await makeTestPod('r');
  t.teardown(() => pod.remove());
  const vm = await bootTestVm(pod.ns, { ports: 2, cpus: 2 });
  t.teardown(() => vm.stop());
  const before = await fingerprint(pod.ns);
  const plugged = await hotAttach(vm.hot, pod.ns, 'vA', { nicId: 'saved0', model: 'tcfilter', queues: 2, ping: [VETH_PEER] })();
  if (E.isLeft(plugged)) return t.fail(describeHotAttachError(plugged.left));
  t.true(plugged.right.guest.some((e) => e._tag === 'PingOk'));
  const attachment = plugged.right.attachment;
  if (attachment === undefined) return t.fail('no attachment');
  const file = join(vm.dir, 'nic-state.json');
  writeFileSync(file, encodeNicState({ version: NIC_STATE_VERSION, netns: pod.a, attachments: [attachment], nics: [plugged.right.spec], vm: { pid: vm.handle.pid, qmpSocket: vm.handle.qmpSocket, vmm: 'qemu' } }));
  // The old runtime goes: QEMU takes one QMP client, and the new one is next.
  vm.hot.close();
  vm.handle.qmp.close();

  const child = await execa('node', [CHILD, file], { reject: false, timeout: 180_000 });
  const out = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as { ok: boolean; why?: string; check?: { ok: boolean; drift: string[] }; unplugged?: string[] };
  t.true(out.ok, out.why ?? child.stderr);
  t.deepEqual(out.check, { ok: true, drift: [] }, 'the reloaded state matches the netns and the VM');
  t.deepEqual(out.unplugged, ['saved0']);
  t.is(await fingerprint(pod.ns), before, 'the netns is as before');

  const qmp = await connectQmp(vm.handle.qmpSocket, 10_000);
  if (E.isLeft(qmp)) return t.fail(describeQmpError(qmp.left));
  t.teardown(() => qmp.right.close());
  const pci = await readPci(qmp.right, 10_000)();
  t.true(E.isRight(pci) && pci.right.ports.every((p) => p.devices.length === 0), 'no device behind the ports');
  const gone = await qmp.right.execute('netdev_del', { id: 'saved0' }, { timeoutMs: 5000 });
  t.true(E.isLeft(gone), 'no netdev left');
});
