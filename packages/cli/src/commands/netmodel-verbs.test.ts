// plan/attach/detach/check through runCli in a real netns.
import test from 'ava';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { captureOutput } from '../capture.js';
import { runCli } from '../main.js';

const cli = async (...args: string[]) => {
  const io = captureOutput();
  const code = await runCli(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
};

test('plan prints commands, attach/check/detach round-trip, exit codes', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  const ip = (...a: string[]) => sh(['ip', '-n', ns.name, ...a]);
  await ip('link', 'add', 'ep0', 'type', 'veth', 'peer', 'name', 'ep0p');
  await ip('addr', 'add', '10.41.0.2/24', 'dev', 'ep0');
  await ip('link', 'set', 'ep0', 'up');
  const before = await ip('-d', 'addr');

  const p = await cli('plan', ns.name, 'ep0', '--model', 'tcfilter', '--queues', '2');
  t.is(p.code, 0, p.err);
  t.regex(p.out, /^ip tuntap add dev tw\d+ mode tap vnet_hdr multi_queue user \d+ group \d+$/m);
  t.regex(p.out, /^# tw\d+: only uid \d+ and gid \d+ \(or CAP_NET_ADMIN\) may attach a queue$/m);
  t.regex(p.out, /^tc filter add dev ep0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tw\d+$/m);
  t.is(await ip('-d', 'addr'), before, 'plan changes nothing');
  t.regex((await cli('plan', ns.name, 'ep0', '--tap-owner', '65534', '--tap-group', 'none')).out, /^ip tuntap add dev tw\d+ mode tap vnet_hdr user 65534$/m);
  t.regex((await cli('plan', ns.name, 'ep0', '--tap-owner', 'nobody')).err, /bad tap owner "nobody": expected a uid\/gid from 0 to 4294967294, or none/);

  t.is((await cli('plan', ns.name, 'ep0', '--queues', '1025')).code, 2);
  t.is((await cli('plan', ns.name, 'ep0', '--model', 'bridge')).code, 2);
  t.regex((await cli('plan', ns.name, 'lo')).err, /loopback/);
  t.regex((await cli('attach', ns.name, 'nope')).err, /no link "nope"/);

  const a = await cli('attach', ns.name, 'ep0', '--json');
  t.is(a.code, 0, a.err);
  const [att] = JSON.parse(a.out) as { tapName: string; existing?: boolean }[];
  t.truthy(att?.tapName);
  const again = await cli('attach', ns.name, 'ep0', '--json');
  t.true((JSON.parse(again.out) as { existing?: boolean }[])[0]?.existing);
  t.is((await cli('check', ns.name, '--all')).code, 0);
  await sh(['tc', '-n', ns.name, 'qdisc', 'del', 'dev', 'ep0', 'ingress']);
  const drift = await cli('check', ns.name, 'ep0');
  t.is(drift.code, 1);
  t.regex(drift.out, /QdiscMissing/);
  t.is((await cli('detach', ns.name, 'ep0')).code, 0);
  const twice = await cli('detach', ns.name, 'ep0');
  t.is(twice.code, 0);
  t.regex(twice.out, /nothing to do/);
  t.is(await ip('-d', 'addr'), before);
});
