// The shape: a guest booted with one NIC (cold-plugged through the VM
// handle's own path: prepareNics, qemuArgvFor, startVm) and the hotplug root
// ports and control channel beside it; a second endpoint of another model (a
// macvtap) hotplugged next to it, pinged through, unplugged; the cold NIC
// keeps working, and the handle's NIC table follows (hotAdd/hotRemove).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { scanUntilAttachable } from '@tapwire/endpoints';
import { attach, describeNetmodelError, detach } from '@tapwire/netmodel';
import { requireCommand, requireRoot } from '@tapwire/testkit';
import { inheritFds, prepareNics, describeVmError } from '@tapwire/vm';
import { renderGuestCmdline } from '../guest/cmdline.js';
import { guestImagePaths } from '../guest/image.js';
import { guestConfigFor } from '../session/guest-config.js';
import { qemuArgvFor } from '../session/boot.js';
import { startVm } from '../vm/start.js';
import { describeHotAttachError } from './hot-attach.js';
import { fingerprint, makeTestPod, MACVTAP_MAC, MACVTAP_PEER, VETH_PEER } from './testing/pod.js';
import { hotAdd, hotRemove, hotVmOf } from './vm.js';

test('a guest booted with one NIC gets a second one of another model hotplugged beside it, then unplugged', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  const pod = await makeTestPod('c');
  t.teardown(() => pod.remove());
  const dir = mkdtempSync(join(tmpdir(), 'tw-coldhot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const before = await fingerprint(pod.ns);

  const scanned = await scanUntilAttachable(pod.ns, 2000)();
  if (E.isLeft(scanned)) return t.fail(JSON.stringify(scanned.left));
  const cold = scanned.right.endpoints.find((e) => e.link.name === 'vA');
  if (cold === undefined) return t.fail('no vA');
  const attached = await attach(pod.ns, cold, 'tcfilter', { queues: 1 })();
  if (E.isLeft(attached)) return t.fail(describeNetmodelError(attached.left));
  t.teardown(async () => {
    await detach(pod.ns, attached.right)();
  });
  const prepared = await prepareNics(pod.ns, [cold], [attached.right], { vhost: false, vhostUserQueues: 1 })();
  if (E.isLeft(prepared)) return t.fail(describeVmError(prepared.left));
  const config = guestConfigFor(scanned.right.snapshot, [{ link: cold.link, mac: attached.right.guestMac, mtu: attached.right.mtu }], [VETH_PEER]);
  const append = renderGuestCmdline({ ...config, control: true, stay: true, waitSeconds: 20 });
  if (E.isLeft(append)) return t.fail(JSON.stringify(append.left));
  const image = guestImagePaths();
  const qmpSocket = join(dir, 'qmp.sock');
  const controlSocket = join(dir, 'control.sock');
  const argv = qemuArgvFor(
    { accel: 'tcg', memMiB: 256, cpus: 1, kernel: image.kernelElf ?? image.kernel, initrd: image.initrd, append: append.right, qmpSocket, serialLog: join(dir, 'serial.log'), hotplugPorts: 2, controlSocket },
    prepared.right,
  );
  if (E.isLeft(argv)) return t.fail(JSON.stringify(argv.left));
  const vm = await startVm({ ns: pod.ns, argv: argv.right, qmpSocket, inherited: inheritFds(prepared.right.fds).inherited, nics: prepared.right.nics, readyWithinMs: 60_000, onSpawned: prepared.right.close })();
  prepared.right.close();
  if (E.isLeft(vm)) return t.fail(JSON.stringify(vm.left));
  t.teardown(async () => {
    await vm.right.stop(5000)();
  });
  const hot = await hotVmOf(vm.right, controlSocket, 'tcg', 30_000)();
  if (E.isLeft(hot)) return t.fail(JSON.stringify(hot.left));
  t.teardown(() => hot.right.close());
  const ready = await hot.right.watch.waitFor((e) => e._tag === 'Control', 0, 240_000);
  t.truthy(ready, 'the guest reads its control channel after booting');
  const boot = hot.right.watch.events();
  t.true(boot.some((e) => e._tag === 'PingOk' && e.addr === VETH_PEER), 'the cold NIC pings at boot');
  t.deepEqual(vm.right.nics.list().map((n) => n.id), ['net0']);

  const plugged = await hotAdd(vm.right, hot.right, pod.ns, 'mv0', { nicId: 'hot0', model: 'tcfilter', queues: 1, ping: [MACVTAP_PEER, VETH_PEER] })();
  if (E.isLeft(plugged)) return t.fail(describeHotAttachError(plugged.left));
  t.is(plugged.right.mac, MACVTAP_MAC);
  t.deepEqual(plugged.right.guest.filter((e) => e._tag === 'PingOk').map((e) => (e._tag === 'PingOk' ? e.addr : '')), [MACVTAP_PEER, VETH_PEER], 'both networks answer');
  t.deepEqual(vm.right.nics.list().map((n) => n.id), ['net0', 'hot0']);
  t.is(vm.right.nics.get('hot0')?.backend.kind, 'macvtap');
  t.truthy(vm.right.nics.get('hot0')?.pciAddress);

  const out = await hotRemove(vm.right, hot.right, pod.ns, plugged.right)();
  if (E.isLeft(out)) return t.fail(describeHotAttachError(out.left));
  t.deepEqual(vm.right.nics.list().map((n) => n.id), ['net0']);
  // The cold NIC still works after its neighbour left.
  const again = await hot.right.control.apply({ nics: [], ping: [VETH_PEER] }, 'after', 60_000);
  t.true(E.isRight(again) && again.right.some((e) => e._tag === 'PingOk'), JSON.stringify(again));
  await vm.right.stop(5000)();
  const d = await detach(pod.ns, attached.right)();
  t.true(E.isRight(d));
  t.is(await fingerprint(pod.ns), before, 'the netns is as before');
});
