// A vhost-user NIC hotplugged into a running guest, DPDK testpmd the backend:
// chardev-add + netdev_add vhost-user + device_add (INTx under TCG), the guest
// pings the tap side through testpmd, then unplug (chardev-remove too) and the
// guest reports it gone. testpmd busy-polls a core: this file runs alone.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { startTestpmd, TESTPMD } from '../args/testing/testpmd.js';
import { describeHotAttachError, hotAttach, hotDetach } from './hot-attach.js';
import { readPci } from './pci.js';
import { bootTestVm } from './testing/boot.js';
import { fingerprint } from './testing/pod.js';

const handle = (name: string): NetnsHandle => {
  const h = resolveNetns(name);
  if (E.isLeft(h)) throw new Error(JSON.stringify(h.left));
  return h.right;
};

test.serial('a vhost-user NIC hotplugged against testpmd: the guest pings through it, unplugged, reported gone', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64') || !requireCommand(t, TESTPMD)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-vu-hot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const podNs = await makeNetns(t, 'twvh');
  const peer = await makeNetns(t, 'twvhp');
  // The classifier finds a link's backend at <dir>/vhostuser_<addr>/vhu.sock.
  await sh(['ip', '-n', podNs.name, '-batch', '-'], 'link add eth0 type veth peer name eth0p\naddr add 10.92.0.2/24 dev eth0\nlink set eth0 up\n');
  mkdirSync(join(dir, 'vhostuser_10.92.0.2'), { recursive: true });
  const socket = join(dir, 'vhostuser_10.92.0.2', 'vhu.sock');
  const pmd = await startTestpmd(t, { ns: handle(peer.name), ports: [{ kind: 'vhost', socket }, { kind: 'tap', iface: 'vut0' }], queues: 1, readyWithinMs: 60_000 });
  await sh(['ip', '-n', peer.name, '-batch', '-'], 'addr add 10.92.0.1/24 dev vut0\nlink set vut0 up\n');
  const pod = handle(podNs.name);
  const vm = await bootTestVm(pod, { ports: 2, cpus: 1, sharedMemory: true });
  t.teardown(() => vm.stop());
  const before = await fingerprint(pod);

  const plugged = await hotAttach(vm.hot, pod, 'eth0', { nicId: 'vu0', model: 'tcfilter', queues: 1, vhostUserDir: dir, ping: ['10.92.0.1'], guestTimeoutMs: 120_000 })();
  if (E.isLeft(plugged)) return t.fail(describeHotAttachError(plugged.left));
  t.is(plugged.right.plugged.chardev, 'chr-vu0');
  t.is(plugged.right.attachment, undefined, 'nothing made in the netns for vhost-user');
  const ping = plugged.right.guest.find((e) => e._tag === 'PingOk' || e._tag === 'PingFail');
  t.is(ping?._tag, 'PingOk', JSON.stringify(plugged.right.guest));

  const out = await hotDetach(vm.hot, pod, plugged.right)();
  if (E.isLeft(out)) return t.fail(describeHotAttachError(out.left));
  t.true(out.right.guestConfirmed);
  t.is(await fingerprint(pod), before);
  const pci = await readPci(vm.handle.qmp, 10_000)();
  t.true(E.isRight(pci) && pci.right.ports.every((p) => p.devices.length === 0));
  const chardev = await vm.handle.qmp.execute('chardev-remove', { id: 'chr-vu0' }, { timeoutMs: 5000 });
  t.true(E.isLeft(chardev), 'the chardev is gone');
  await vm.stop();
  const end = await pmd.stop();
  t.log(`testpmd: ${end.stats.map((s) => `port ${s.port} rx=${s.rx} tx=${s.tx}`).join(', ')}`);
  t.true(end.stats.length >= 2 && end.stats.every((s) => s.rx > 0 && s.tx > 0), 'packets crossed testpmd both ways');
});
