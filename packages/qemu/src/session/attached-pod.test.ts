// A pod attached before the launch (`tapwire attach`, or a runtime that
// attached it earlier): a dry run plans against it and a real launch gives
// the guest its NIC, with the pod's addressing (for a macvtap attach read back
// from the macvtap's record); the launch leaves the attachment as it found it.
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { attachAll, describeNetmodelError, detachAll, netnsState, type Model } from '@tapwire/netmodel';
import type { NetnsHandle } from '@tapwire/sys';
import { scan, classify } from '@tapwire/endpoints';
import { makeNetns, sh } from '@tapwire/testkit';
import { guestImage, netnsHandle, requireGuestBoot, vethPod } from '../testing/guest-pod.js';
import { describeLaunchError } from './errors.js';
import { launchPod } from './launch-pod.js';

const PEER = '10.92.0.1';

/** A pod (eth0 veth to a peer, default route via it), attached with `model` before any launch; detached on teardown. */
const attachedPod = async (t: ExecutionContext, model: Model): Promise<{ pod: NetnsHandle; pristine: unknown }> => {
  const h = (await vethPod(t, { prefixes: ['twap', 'twaq'], nets: ['10.92.0'], defaultRoute: true })).handle;
  const pristine = await netnsState(h)();
  const snap = await scan(h)();
  if (E.isLeft(snap)) throw new Error(JSON.stringify(snap.left));
  const attached = await attachAll(h, classify(snap.right), model, { queues: 1 })();
  if (E.isLeft(attached)) throw new Error(describeNetmodelError(attached.left));
  // Before makeNetns's own teardown deletes the netns (teardowns run last-registered first).
  t.teardown(async () => {
    await detachAll(h)();
  });
  return { pod: h, pristine };
};

/**
 * The state without what the kernel's IPv6 autoconfiguration adds to the
 * attach's device once it has carrier (a tap gets it only while QEMU holds
 * it): its link-local address and the routes that come with it. Not the
 * launch's doing; detach removes the device, and with it all of that.
 */
const withoutAutoconf = (state: unknown): unknown => {
  const s = state as { _tag: string; right?: { links: { name: string; addresses: string[] }[]; routes: { dev?: string; dst: string; family: string }[] } };
  if (s.right === undefined) return s;
  const ours = (dev: string | undefined) => dev !== undefined && /^tw\d+$/.test(dev);
  return {
    ...s,
    right: {
      ...s.right,
      links: s.right.links.map((l) => (ours(l.name) ? { ...l, addresses: l.addresses.filter((a) => !a.startsWith('fe80:')) } : l)),
      routes: s.right.routes.filter((r) => !(ours(r.dev) && r.family === 'inet6' && (r.dst === 'ff00::/8' || r.dst.startsWith('fe80:')))),
    },
  };
};

const base = { queues: 1, vhost: 'off', ping: [PEER], timeoutMs: 180_000, accel: 'tcg' } as const;

for (const model of ['tcfilter', 'macvtap'] as const) {
  test.serial(`dry run on a pod attached with ${model}: the existing attachment, the pod's addressing, nothing changed`, async (t) => {
    if (!requireGuestBoot(t)) return;
    const { pod } = await attachedPod(t, model);
    const before = await netnsState(pod)();
    const r = await launchPod(pod, { ...base, model, dryRun: true, image: await guestImage() })();
    if (E.isLeft(r)) return t.fail(describeLaunchError(r.left));
    t.deepEqual(await netnsState(pod)(), before, 'nothing changed');
    t.deepEqual(r.right.attachments.map((a) => [a.link, a.model, a.existing]), [['eth0', model, true]]);
    t.deepEqual(r.right.nics.map((n) => [n.link, n.backend.kind]), [['eth0', model === 'macvtap' ? 'macvtap' : 'tap']]);
    const append = r.right.argv[r.right.argv.indexOf('-append') + 1] ?? '';
    t.true(append.includes('10.92.0.2/24'), `the guest gets eth0's address: ${append}`);
    t.true(append.includes(PEER), `and its default route: ${append}`);
  });

  // keepAttached (the CLI without --model): another model and queue count asked for, the attachment used as it is.
  test.serial(`a real launch on a pod attached with ${model}: the guest pings through it, the attachment stays`, async (t) => {
    if (!requireGuestBoot(t)) return;
    const { pod, pristine } = await attachedPod(t, model);
    const before = await netnsState(pod)();
    const started = Date.now();
    const other = model === 'macvtap' ? 'tcfilter' : 'macvtap';
    const r = await launchPod(pod, { ...base, model: other, queues: 2, keepAttached: true, dryRun: false, image: await guestImage() })();
    t.log(`launch took ${Date.now() - started} ms`);
    t.deepEqual(withoutAutoconf(await netnsState(pod)()), withoutAutoconf(before), 'the attachment made before the launch is left as it was');
    if (E.isLeft(r)) return t.fail(describeLaunchError(r.left));
    t.true(r.right.ok, JSON.stringify(r.right.guest));
    t.deepEqual(r.right.guest?.pings.map((p) => p._tag), ['PingOk']);
    t.deepEqual(r.right.nics.map((n) => [n.link, n.queues]), [['eth0', 1]]);
    t.deepEqual(r.right.attachments.map((a) => [a.link, a.model, a.existing]), [['eth0', model, true]]);
    t.false(r.right.stages.some((s) => s.stage === 'teardown'), 'nothing of the launch\'s own to detach');
    const detached = await detachAll(pod)();
    if (E.isLeft(detached)) return t.fail(describeNetmodelError(detached.left));
    t.deepEqual(await netnsState(pod)(), pristine, 'detach restores the pod as it was before the attach');
  });
}

test.serial('--wait does not wait for a pod whose link is attached already (it scans as "no addresses")', async (t) => {
  if (!requireGuestBoot(t)) return;
  const { pod } = await attachedPod(t, 'macvtap');
  const started = Date.now();
  const r = await launchPod(pod, { ...base, model: 'macvtap', dryRun: true, waitMs: 60_000, image: await guestImage() })();
  if (E.isLeft(r)) return t.fail(describeLaunchError(r.left));
  t.true(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  t.deepEqual(r.right.nics.map((n) => n.link), ['eth0']);
});

test.serial('an abort ends a wait for an attachable link at once, as an interrupt', async (t) => {
  if (!requireGuestBoot(t)) return;
  const empty = await makeNetns(t, 'twaw');
  const stop = new AbortController();
  setTimeout(() => stop.abort('test'), 300);
  const started = Date.now();
  const r = await launchPod(netnsHandle(empty.name), { ...base, model: 'tcfilter', dryRun: false, waitMs: 60_000, signal: stop.signal, image: await guestImage() })();
  if (E.isLeft(r)) return t.fail(describeLaunchError(r.left));
  t.true(r.right.interrupted);
  t.true(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
});

test.serial('without keepAttached, a launch asking for another model than the attachment is refused before anything changes', async (t) => {
  if (!requireGuestBoot(t)) return;
  const { pod } = await attachedPod(t, 'macvtap');
  const before = await netnsState(pod)();
  const r = await launchPod(pod, { ...base, model: 'tcfilter', dryRun: false, image: await guestImage() })();
  t.true(E.isLeft(r) && describeLaunchError(r.left).includes('already attached'), E.isLeft(r) ? describeLaunchError(r.left) : 'launched');
  t.deepEqual(await netnsState(pod)(), before);
});
