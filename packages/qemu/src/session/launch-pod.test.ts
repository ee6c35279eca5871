// The loop for real: a pod netns wired to a peer netns, launchPod attaches,
// boots the guest (TCG) with the queue fds, the guest pings the peer, and the
// pod netns is afterwards exactly as it was.
import { spawn } from 'node:child_process';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { netnsState, type Model } from '@tapwire/netmodel';
import { closeFds, openTapQueues, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, sh } from '@tapwire/testkit';
import { guestImage, linkLocalSettled, netnsHandle, requireGuestBoot, vethPod } from '../testing/guest-pod.js';
import { describeLaunchError } from './errors.js';
import { launchPod, type LaunchOptions } from './launch-pod.js';

const PEER = '10.90.0.1';

/** Pod netns with eth0 (veth) to a peer netns, default route via the peer. */
const podWithPeer = async (t: ExecutionContext): Promise<{ pod: NetnsHandle }> => ({
  pod: (await vethPod(t, { prefixes: ['twlp', 'twlq'], nets: ['10.90.0'], defaultRoute: true })).handle,
});

const launch = async (t: ExecutionContext, pod: NetnsHandle, o: Partial<LaunchOptions>) => {
  const before = await netnsState(pod)();
  const r = await launchPod(pod, {
    model: 'tcfilter',
    queues: 1,
    vhost: 'auto',
    ping: [PEER],
    timeoutMs: 180_000,
    accel: 'tcg',
    dryRun: false,
    image: await guestImage(),
    ...o,
  })();
  const after = await netnsState(pod)();
  t.deepEqual(after, before, 'the pod netns is exactly as it was');
  if (E.isLeft(r)) {
    t.fail(describeLaunchError(r.left));
    return undefined;
  }
  t.true(r.right.ok, JSON.stringify(r.right.guest));
  t.deepEqual(
    r.right.guest?.pings.map((p) => p._tag),
    ['PingOk'],
  );
  return r.right;
};

for (const [model, queues] of [['tcfilter', 1], ['tcfilter', 2], ['macvtap', 1]] as [Model, number][]) {
  test.serial(`guest pings the peer through ${model} with ${queues} queue(s)`, async (t) => {
    if (!requireGuestBoot(t)) return;
    const { pod } = await podWithPeer(t);
    const progress: string[] = [];
    const r = await launch(t, pod, { model, queues, onProgress: (e) => progress.push(`${e.operation} ${e.step}`) });
    if (r === undefined) return;
    t.deepEqual(progress, ['attach lock', 'attach read', 'attach apply', 'attach done', 'detach lock', 'detach read', 'detach apply', 'detach done'], 'netmodel progress reaches the caller');
    t.regex(r.nics[0]?.pciAddress ?? '', /^0000:00:[0-9a-f]{2}\.0$/, 'the result names the NIC\'s PCI address');
    t.is(r.fds.length, queues);
    t.is(r.accel, 'tcg');
    t.regex(r.stages.find((s) => s.stage === 'boot' && s.status === 'ok')?.note ?? '', /^tcg, QEMU \d+\.\d+\.\d+ running/, 'QMP confirmed QEMU was running');
    if (queues > 1) {
      t.true(r.argv.some((a) => a.includes('mq=on') && a.includes(`vectors=${2 * queues + 2}`)));
      t.deepEqual(Object.values(r.guest?.queues ?? {}), [queues], 'the guest sees the queue pairs');
    }
  });
}

/**
 * A tuntap endpoint: a tap in the pod whose other side is a userspace program
 * (here a QEMU with no machine that hubs the pod's tap to a tap in the peer
 * netns: a wire made of two fds). tcfilter then wires that tap to the VM's.
 */
test.serial('guest pings the peer through a tuntap endpoint', async (t) => {
  if (!requireGuestBoot(t)) return;
  const pod = await makeNetns(t, 'twlt');
  const peer = await makeNetns(t, 'twlu');
  await sh(['ip', '-n', pod.name, '-batch', '-'], 'tuntap add dev tt0 mode tap vnet_hdr\naddr add 10.90.0.2/24 dev tt0\nlink set tt0 up\n');
  await sh(['ip', '-n', peer.name, '-batch', '-'], `tuntap add dev pt0 mode tap vnet_hdr\naddr add ${PEER}/24 dev pt0\nlink set pt0 up\n`);
  // The pod tap gets carrier (and its IPv6 link-local setup) once the wire holds it.
  const podFd = openTapQueues(netnsHandle(pod.name), 'tt0', { queues: 1, multiQueue: false, vnetHdr: true });
  const peerFd = openTapQueues(netnsHandle(peer.name), 'pt0', { queues: 1, multiQueue: false, vnetHdr: true });
  if (E.isLeft(podFd) || E.isLeft(peerFd)) return t.fail('opening the wire taps');
  const wire = spawn(
    'qemu-system-x86_64',
    ['-machine', 'none', '-nodefaults', '-display', 'none',
      '-netdev', 'tap,id=a,fd=3,vhost=off', '-netdev', 'tap,id=b,fd=4,vhost=off',
      '-netdev', 'hubport,id=ha,hubid=0,netdev=a', '-netdev', 'hubport,id=hb,hubid=0,netdev=b'],
    { stdio: ['ignore', 'ignore', 'ignore', podFd.right[0], peerFd.right[0]] },
  );
  closeFds([...podFd.right, ...peerFd.right]);
  t.teardown(() => {
    wire.kill('SIGKILL');
  });
  await linkLocalSettled(pod.name, 'tt0');
  const r = await launch(t, netnsHandle(pod.name), { model: 'tcfilter', queues: 1 });
  if (r === undefined) return;
  t.true(r.attachments.some((a) => a.link === 'tt0'));
});

test.serial('dry run prints the command line with fd numbers and changes nothing', async (t) => {
  if (!requireGuestBoot(t)) return;
  const { pod } = await podWithPeer(t);
  const before = await netnsState(pod)();
  const r = await launchPod(pod, { model: 'tcfilter', queues: 2, vhost: 'off', ping: [], timeoutMs: 1000, accel: 'tcg', dryRun: true, image: await guestImage() })();
  if (E.isLeft(r)) return t.fail(describeLaunchError(r.left));
  t.deepEqual(await netnsState(pod)(), before);
  t.deepEqual(r.right.fds.map((f) => f.fd), [3, 4]);
  t.true(r.right.argv.includes('tap,id=net0,fds=3:4,vhost=off'), r.right.argv.join(' '));
  t.false(r.right.argv.some((a) => /queues=|ifname=|vnet_hdr=/.test(a)));
});

test.serial('vhost=on without /dev/vhost-net is a clear error and the netns is restored', async (t) => {
  if (!requireGuestBoot(t)) return;
  if (await sh(['test', '-e', '/dev/vhost-net']).then(() => true, () => false)) {
    t.log('this machine has /dev/vhost-net; the missing-device path is not reachable here');
    t.pass();
    return;
  }
  const { pod } = await podWithPeer(t);
  const before = await netnsState(pod)();
  const r = await launchPod(pod, { model: 'tcfilter', queues: 1, vhost: 'on', ping: [], timeoutMs: 1000, accel: 'tcg', dryRun: false, image: await guestImage() })();
  t.true(E.isLeft(r));
  if (E.isLeft(r)) t.regex(describeLaunchError(r.left), /vhost-net/);
  t.deepEqual(await netnsState(pod)(), before);
});
