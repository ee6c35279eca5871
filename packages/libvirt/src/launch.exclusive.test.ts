// The KubeVirt-style loop for real: a pod netns wired to a peer, a private
// libvirtd in it, a TCG guest defined from the NicSpecs pings the peer, and
// afterwards the pod netns is exactly as it was and the host has no daemon,
// QEMU, cgroup dir or work dir of ours left. Several guests boot one after
// another, so this file runs alone (exclusive).
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { attachAll, detach, netnsState, type Attachment, type Model } from '@tapwire/netmodel';
import { guestImage, linkLocalSettled, netnsHandle, requireGuestBoot, vethPod } from '@tapwire/qemu/testing';
import type { NetnsHandle } from '@tapwire/sys';
import { classify, scan } from '@tapwire/endpoints';
import { makeNetns, sh } from '@tapwire/testkit';
import { describeLibvirtError } from './errors.js';
import { launchViaLibvirt, type LibvirtLaunchOptions } from './launch.js';

const gate = (t: ExecutionContext): boolean => requireGuestBoot(t, 'libvirtd', 'virsh');

/** A pod with `links` veths (eth0, eth1, ...), each to a peer netns at 10.9<i>.0.1. */
const podWithPeers = async (t: ExecutionContext, links = 1): Promise<{ pod: NetnsHandle; peers: string[] }> => {
  const pod = await vethPod(t, { prefixes: ['twlv', 'twlw'], nets: Array.from({ length: links }, (_, i) => `10.9${i}.0`), defaultRoute: false });
  return { pod: pod.handle, peers: pod.peers.map((p) => p.addr) };
};

/** What a launch could leave on the host: daemons, processes in the pod netns, cgroup dirs, work dirs. */
const hostTraces = (pod: NetnsHandle) => {
  const podNet = `net:[${statSync(pod.path).ino}]`;
  const inPod = readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p)) return false;
    try {
      return readlinkSync(`/proc/${p}/ns/net`) === podNet;
    } catch {
      return false;
    }
  });
  const cgroups = readdirSync('/sys/fs/cgroup').flatMap((c) => {
    try {
      return readdirSync(`/sys/fs/cgroup/${c}`).filter((d) => d.startsWith('machine')).map((d) => `${c}/${d}`);
    } catch {
      return [];
    }
  });
  const workDirs = readdirSync('/tmp').filter((d) => d.startsWith('tapwire-libvirt-'));
  return { inPod, cgroups, workDirs };
};

const launch = async (t: ExecutionContext, pod: NetnsHandle, peers: readonly string[], o: Partial<LibvirtLaunchOptions>) => {
  const before = await netnsState(pod)();
  const traces = hostTraces(pod);
  const r = await launchViaLibvirt(pod, { model: 'tcfilter', queues: 1, ping: peers, timeoutMs: 240_000, dryRun: false, image: await guestImage(), ...o })();
  t.deepEqual(await netnsState(pod)(), before, 'the pod netns is exactly as it was');
  t.deepEqual(hostTraces(pod), traces, 'no daemon, QEMU, cgroup dir or work dir left');
  if (E.isLeft(r)) {
    t.fail(describeLibvirtError(r.left));
    return undefined;
  }
  t.true(r.right.ok, JSON.stringify(r.right.guest));
  t.is(r.right.guest?.pings.filter((p) => p._tag === 'PingOk').length, peers.length);
  t.log(JSON.stringify(r.right.timings));
  return r.right;
};

const oneNic = (model: Model, queues: number) => async (t: ExecutionContext) => {
  if (!gate(t)) return;
  const { pod, peers } = await podWithPeers(t);
  const r = await launch(t, pod, peers, { model, queues });
  if (r === undefined) return;
  const nic = r.nics[0];
  t.is(nic?.backend.kind, model === 'macvtap' ? 'macvtap' : 'tap');
  t.is(nic?.queues, queues);
  t.is(r.guest?.queues['eth0'], queues, 'the guest enabled every queue pair');
  t.regex(r.xml, new RegExp(`<target dev='${nic?.backend.kind === 'tap' || nic?.backend.kind === 'macvtap' ? nic.backend.device : '?'}' managed='no'/>`));
};

test.serial('tcfilter tap, 1 queue: the guest pings the peer through libvirt', oneNic('tcfilter', 1));
test.serial('tcfilter tap, 2 queues (multi_queue tap, 2 vCPUs)', oneNic('tcfilter', 2));
test.serial('macvtap, 1 queue', oneNic('macvtap', 1));
test.serial('macvtap, 2 queues', oneNic('macvtap', 2));

test.serial('two NICs: the guest pings both peers', async (t) => {
  if (!gate(t)) return;
  const { pod, peers } = await podWithPeers(t, 2);
  const r = await launch(t, pod, peers, { model: 'tcfilter', queues: 1 });
  t.is(r?.nics.length, 2);
});

test.serial("a macvtap whose ifindex is another netns's /dev/tap<ifindex>: the daemon opens the pod's own", async (t) => {
  if (!gate(t)) return;
  // Another netns takes ifindexes 3..6 with macvtaps first: devtmpfs keeps its /dev/tap3..6.
  const other = await makeNetns(t, 'twlx');
  await sh(['ip', '-n', other.name, '-batch', '-'], ['link add v0 index 2 type veth peer name v1 index 7', ...[3, 4, 5, 6].map((i) => `link add link v0 name m${i} index ${i} type macvtap mode bridge`)].join('\n') + '\n');
  const { pod, peers } = await podWithPeers(t);
  const r = await launch(t, pod, peers, { model: 'macvtap', queues: 1 });
  const b = r?.nics[0]?.backend;
  if (b?.kind !== 'macvtap') return t.fail('no macvtap NIC');
  t.true(b.ifindex >= 3 && b.ifindex <= 6, `pod macvtap ifindex ${b.ifindex} collides with the other netns's`);
  const hostNode = statSync(`/dev/tap${b.ifindex}`).rdev;
  const otherDev = (await sh(['ip', 'netns', 'exec', other.name, 'cat', `/sys/class/net/m${b.ifindex}/tap${b.ifindex}/dev`])).trim();
  t.is(`${Math.floor(hostNode / 256) & 0xfff}:${(hostNode & 0xff) | ((hostNode >> 12) & 0xfff00)}`, otherDev, "the host's node is the other netns's");
});

test.serial("a macvtap made elsewhere and moved into the pod (macvtap-cni's way) is handed over as is; libvirt's noqueue root qdisc comes off again", async (t) => {
  if (!gate(t)) return;
  // node: the macvtap's lower device and a veth to the peer; pod: only the macvtap.
  const pod = await makeNetns(t, 'twlv');
  const node = await makeNetns(t, 'twln');
  const peer = await makeNetns(t, 'twlw');
  await sh(['ip', '-n', node.name, '-batch', '-'], [`link add p0 type veth peer name q0 netns ${peer.name}`, 'link set p0 up', 'link add link p0 name net1 type macvtap mode bridge', `link set net1 netns ${pod.name}`].join('\n') + '\n');
  await sh(['ip', '-n', pod.name, '-batch', '-'], 'addr add 10.96.0.2/24 dev net1\nlink set net1 up\n');
  await sh(['ip', '-n', peer.name, '-batch', '-'], 'addr add 10.96.0.1/24 dev q0\nlink set q0 up\n');
  await linkLocalSettled(pod.name, 'net1');
  const r = await launch(t, netnsHandle(pod.name), ['10.96.0.1'], { model: 'tcfilter', queues: 1 });
  t.like(r?.nics[0], { link: 'net1', backend: { kind: 'macvtap', device: 'net1' } });
  t.deepEqual(r?.attachments.map((a) => a.model), ['none']);
  t.true(r?.notes.includes("took libvirt's noqueue root qdisc off net1"), JSON.stringify(r?.notes));
});

test.serial('aborted while the guest boots: Interrupted, and the domain, daemon and attachments are gone', async (t) => {
  if (!gate(t)) return;
  const { pod, peers } = await podWithPeers(t);
  const before = await netnsState(pod)();
  const traces = hostTraces(pod);
  const abort = new AbortController();
  const r = await launchViaLibvirt(pod, {
    model: 'macvtap', queues: 1, ping: peers, timeoutMs: 240_000, dryRun: false, image: await guestImage(), signal: abort.signal,
    onConsole: (c) => {
      if (c.includes('TAPWIRE-START')) abort.abort(new Error('test abort'));
    },
  })();
  t.like(r, { _tag: 'Left', left: { _tag: 'Interrupted', reason: 'test abort' } });
  t.deepEqual(await netnsState(pod)(), before);
  t.deepEqual(hostTraces(pod), traces);
});

test.serial('dry run on a pod already attached (macvtap): the XML of its attachment, the same guest config as before attaching, nothing changed', async (t) => {
  if (!gate(t)) return;
  const { pod, peers } = await podWithPeers(t);
  const cmdlineOf = (xml: string) => /<cmdline>(.*)<\/cmdline>/.exec(xml)?.[1];
  const fresh = await launchViaLibvirt(pod, { model: 'macvtap', queues: 2, ping: peers, timeoutMs: 1_000, dryRun: true })();
  if (E.isLeft(fresh)) return t.fail(describeLibvirtError(fresh.left));
  const snap = await scan(pod)();
  if (E.isLeft(snap)) return t.fail(JSON.stringify(snap.left));
  const attached = await attachAll(pod, classify(snap.right), 'macvtap', { queues: 2 })();
  if (E.isLeft(attached)) return t.fail(JSON.stringify(attached.left));
  t.teardown(async () => {
    for (const a of attached.right as readonly Attachment[]) await detach(pod, a)();
  });
  const before = await netnsState(pod)();
  const r = await launchViaLibvirt(pod, { model: 'macvtap', queues: 2, ping: peers, timeoutMs: 1_000, dryRun: true })();
  t.deepEqual(await netnsState(pod)(), before);
  if (E.isLeft(r)) return t.fail(describeLibvirtError(r.left));
  const a = attached.right[0];
  t.regex(r.right.xml, new RegExp(`<target dev='${a?.tapName ?? '?'}' managed='no'/>\\s*<driver queues='2'/>`));
  t.regex(r.right.xml, new RegExp(`<mac address='${a?.guestMac ?? '?'}'/>`));
  // attach took the link's addresses and routes (kept in the record): the guest still gets them.
  t.is(cmdlineOf(r.right.xml), cmdlineOf(fresh.right.xml));
  t.regex(r.right.xml, /tapwire\.nic=[0-9a-f:]+,10\.90\.0\.2\/24,/);
});
