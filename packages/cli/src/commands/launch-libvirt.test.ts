// tapwire launch --via libvirt through runCli: a dry run prints the domain XML
// (no libvirtd needed: nothing starts), also on a pod already attached with
// macvtap (it used to fail "no attachable link ... no addresses"), and leaves
// the netns as it was (without --model too: the attached link keeps its
// recorded model, as in the direct launch); a bad --via is a usage error.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { netnsState } from '@tapwire/netmodel';
import { resolveNetns } from '@tapwire/sys';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { captureOutput } from '../capture.js';
import { runCli } from '../main.js';

const cli = async (argv: readonly string[]) => {
  const io = captureOutput();
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
};

test('launch --via libvirt --dry-run prints the domain XML, before and after a macvtap attach, changing nothing', async (t) => {
  if (!requireRoot(t)) return;
  const pod = await makeNetns(t, 'twlc');
  const peer = await makeNetns(t, 'twld');
  await sh(['ip', '-n', pod.name, '-batch', '-'], `link add eth0 type veth peer name p0 netns ${peer.name}\naddr add 10.93.0.2/24 dev eth0\nlink set eth0 up\n`);
  const ns = resolveNetns(pod.name);
  if (E.isLeft(ns)) return t.fail(JSON.stringify(ns.left));
  const dry = ['launch', pod.name, '--via', 'libvirt', '--dry-run', '--model', 'macvtap', '--queues', '2', '--ping', '10.93.0.1'];

  const fresh = await cli(dry);
  t.is(fresh.code, 0, fresh.err);
  t.regex(fresh.out, /^<domain type='qemu'>/);
  t.regex(fresh.out, /<interface type='ethernet'>[\s\S]*<target dev='tw2' managed='no'\/>\s*<driver queues='2'\/>/);
  t.regex(fresh.out, /<vcpu>2<\/vcpu>/);

  const attached = await cli(['attach', pod.name, '--all', '--model', 'macvtap', '--queues', '2']);
  t.is(attached.code, 0, attached.err);
  t.teardown(async () => {
    await cli(['detach', pod.name, '--all']);
  });
  const before = await netnsState(ns.right)();
  const again = await cli(dry);
  t.is(again.code, 0, again.err);
  t.deepEqual(await netnsState(ns.right)(), before, 'a dry run changes nothing');
  const cmdline = (xml: string) => /<cmdline>(.*)<\/cmdline>/.exec(xml)?.[1];
  t.is(cmdline(again.out), cmdline(fresh.out), 'the guest gets the same addresses and routes');
  t.regex(again.out, /<target dev='tw2' managed='no'\/>/);
  // Without --model the attached link is used as recorded (macvtap, 2 queues), as the direct launch does.
  const kept = await cli(['launch', pod.name, '--via', 'libvirt', '--dry-run', '--ping', '10.93.0.1']);
  t.is(kept.code, 0, kept.err);
  t.regex(kept.out, /<target dev='tw2' managed='no'\/>\s*<driver queues='2'\/>/);
  t.is(cmdline(kept.out), cmdline(fresh.out));
  t.deepEqual(await netnsState(ns.right)(), before, 'so does a dry run without --model');
});

test('launch --via with anything but qemu or libvirt is a usage error', async (t) => {
  const r = await cli(['launch', 'x', '--via', 'vmware']);
  t.is(r.code, 2);
  t.regex(r.err, /--via "vmware": expected one of qemu, libvirt/);
});
