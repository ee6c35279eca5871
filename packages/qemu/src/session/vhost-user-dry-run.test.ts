// What launch renders for a vhost-user endpoint, per accelerator, without a
// backend or a boot: a dry run only needs the socket to exist for the scan.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { netnsState } from '@tapwire/netmodel';
import { resolveNetns } from '@tapwire/sys';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { guestImagePaths } from '../guest/index.js';
import { describeLaunchError } from './errors.js';
import { launchPod } from './launch-pod.js';

const ADDR = '10.93.0.2';

/** A pod with eth0 at ADDR and a listening socket where a vhost-user backend would put it. */
const podWithSocket = async (t: ExecutionContext): Promise<{ dir: string; netns: string }> => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-vu-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, `vhostuser_${ADDR}`));
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(join(dir, `vhostuser_${ADDR}`, 'vhu.sock'), resolve);
  });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const pod = await makeNetns(t, 'twvd');
  await sh(['ip', '-n', pod.name, '-batch', '-'], `link add eth0 type veth peer name eth0p\naddr add ${ADDR}/24 dev eth0\nlink set eth0 up\n`);
  return { dir, netns: pod.name };
};

for (const [accel, device] of [
  ['tcg', 'virtio-net-pci,netdev=net0,mac=MAC,romfile=,mq=on,vectors=0,id=net0'],
  ['kvm', 'virtio-net-pci,netdev=net0,mac=MAC,romfile=,mq=on,vectors=6,id=net0'],
] as const) {
  test(`dry run, ${accel}: a two-queue vhost-user NIC gets ${accel === 'tcg' ? 'INTx' : 'MSI-X'}, two vCPUs and shared RAM`, async (t) => {
    if (!requireRoot(t)) return;
    const { dir, netns } = await podWithSocket(t);
    const ns = resolveNetns(netns);
    if (E.isLeft(ns)) return t.fail(JSON.stringify(ns.left));
    const before = await netnsState(ns.right)();
    const r = await launchPod(ns.right, {
      model: 'tcfilter',
      queues: 2,
      vhost: 'auto',
      ping: [],
      timeoutMs: 1000,
      accel,
      dryRun: true,
      image: guestImagePaths(),
      vhostUserDir: dir,
    })();
    if (E.isLeft(r)) return t.fail(describeLaunchError(r.left));
    t.deepEqual(await netnsState(ns.right)(), before, 'a dry run changes nothing');
    const argv = r.right.argv;
    const device0 = argv.find((a) => a.startsWith('virtio-net-pci,netdev=net0')) ?? '';
    t.is(device0.replace(/mac=[0-9a-f:]+/, 'mac=MAC'), device);
    t.true(argv.includes(`socket,id=chr-net0,path=${join(dir, `vhostuser_${ADDR}`, 'vhu.sock')}`), argv.join(' '));
    t.true(argv.includes('vhost-user,id=net0,chardev=chr-net0,queues=2'));
    t.is(argv[argv.indexOf('-smp') + 1], '2');
    t.true(argv.some((a) => a.includes('memory-backend-memfd') && a.includes('share=on')));
    t.deepEqual(r.right.fds, [], 'vhost-user passes a socket path, no fds');
    t.is(r.right.notes.some((n) => n.includes('legacy INTx')), accel === 'tcg', r.right.notes.join('; '));
    t.false(r.right.notes.some((n) => n.includes('/dev/vhost-net')), 'vhost-net is no concern of a vhost-user NIC');
  });
}
