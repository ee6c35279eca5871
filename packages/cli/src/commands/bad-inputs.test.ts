// A table of bad inputs through runCli: each gets its exact error text and
// exit code, and none changes the netns (its state is compared after every
// row). The netns holds one of each troublesome thing: a tun-mode device,
// a macvtap, a tap without multi_queue, a foreign ingress qdisc, a link whose
// MTU no tap can copy, a foreign device and a half-made one under tapwire's
// tw<ifindex> names, and a link a vhost-user socket belongs to.
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan } from '@tapwire/endpoints';
import { netnsState } from '@tapwire/netmodel';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { captureOutput } from '../capture.js';
import { runCli } from '../main.js';

interface Row {
  readonly argv: readonly string[];
  readonly code: number;
  /** The first line of stderr after "tapwire: error: ", exactly, or a pattern for it. */
  readonly err: string | RegExp;
}

const cli = async (argv: readonly string[]) => {
  const io = captureOutput();
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
};

const stateOf = async (ns: NetnsHandle): Promise<unknown> => {
  const s = await netnsState(ns)();
  if (E.isLeft(s)) throw new Error(`netnsState: ${JSON.stringify(s.left)}`);
  return s.right;
};

const QUEUES = 'expected an integer from 1 to 256 (the kernel\'s MAX_TAP_QUEUES)';
const TAP_NAME = "expected 1-15 bytes without '/', ':' or whitespace, not '.' or '..'";
const MODEL = 'expected tcfilter, macvtap, none';
/** An address only this test uses, so its vhost-user socket directory in /tmp is its own. */
const VHOST_ADDR = `10.251.${process.pid % 250}.${(process.pid >> 8) % 250}`;

test('bad inputs: 50+ rows through the CLI, each with its exact error, none changing the netns', async (t) => {
  if (!requireRoot(t)) return;
  const { name: N } = await makeNetns(t, 'twin');
  // No IPv6 DAD: link-local addresses and their routes settle at once, so states compare.
  await sh(['ip', 'netns', 'exec', N, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  await sh(
    ['ip', '-n', N, '-batch', '-'],
    [
      'link add ep0 type veth peer name ep0p', 'addr add 10.41.0.2/24 dev ep0', 'link set ep0 up', 'link set ep0p up',
      'link add ep1 type veth peer name ep1p', 'link set ep1 up', 'link set ep1p up',
      'link add link ep1 name mv0 type macvtap mode bridge', 'link set mv0 up',
      'tuntap add dev tun0 mode tun', 'addr add 10.88.0.2/24 dev tun0', 'link set tun0 up',
      'tuntap add dev vmtap0 mode tap',
      'link add ep2 type veth peer name ep2p', 'addr add 10.42.0.2/24 dev ep2', 'link set ep2 up',
      'link add big0 mtu 65535 type veth peer name big0p mtu 65535', 'addr add 10.43.0.2/24 dev big0', 'link set big0 up',
      'link add ep3 type veth peer name ep3p', 'addr add 10.44.0.2/24 dev ep3', 'link set ep3 up',
      'link add ep4 type veth peer name ep4p', 'addr add 10.46.0.2/24 dev ep4', 'link set ep4 up',
      'link add vu0 type veth peer name vu0p', `addr add ${VHOST_ADDR}/24 dev vu0`, 'link set vu0 up',
    ].join('\n') + '\n',
  );
  await sh(['tc', '-n', N, 'qdisc', 'add', 'dev', 'ep2', 'ingress']);
  const ns = resolveNetns(N);
  if (E.isLeft(ns)) return void t.fail(JSON.stringify(ns.left));
  const ifindex = async (link: string) => (JSON.parse(await sh(['ip', '-n', N, '-j', 'link', 'show', 'dev', link])) as { ifindex: number }[])[0]?.ifindex ?? 0;
  // tw<ifindex of ep3>: a veth tapwire did not make; tw<ifindex of ep4>: what an attach killed
  // right after creating its tap leaves (half-made, see netmodel's half-made.ts).
  const foreign = `tw${await ifindex('ep3')}`;
  const halfMade = `tw${await ifindex('ep4')}`;
  await sh(['ip', '-n', N, 'link', 'add', foreign, 'type', 'veth', 'peer', 'name', `${foreign}p`]);
  await sh(['ip', '-n', N, 'tuntap', 'add', 'dev', halfMade, 'mode', 'tap', 'vnet_hdr']);
  // A vhost-user backend's socket for vu0's address (scan looks in /tmp by default).
  const sockDir = join('/tmp', `vhostuser_${VHOST_ADDR}`);
  mkdirSync(sockDir, { recursive: true });
  const server = createServer();
  await new Promise<void>((r) => server.listen(join(sockDir, 'vhu.sock'), r));
  t.teardown(() => {
    server.close();
    rmSync(sockDir, { recursive: true, force: true });
  });

  const rows: Row[] = [
    // Command lines.
    { argv: ['frobnicate'], code: 2, err: 'unknown command "frobnicate"' },
    { argv: ['plan'], code: 2, err: 'plan: expected <netns> <link>' },
    { argv: ['plan', N], code: 2, err: 'plan: expected <netns> <link>' },
    { argv: ['plan', N, 'ep0', 'extra'], code: 2, err: 'plan: expected <netns> <link>' },
    { argv: ['detach', N], code: 2, err: 'detach: expected <netns> and either <link> or --all' },
    { argv: ['detach', N, 'ep0', '--all'], code: 2, err: 'detach: expected <netns> and either <link> or --all' },
    { argv: ['check', N], code: 2, err: 'check: expected <netns> and either <link> or --all' },
    { argv: ['attach', N, '--all', '--tap-name', 'x'], code: 2, err: 'attach: --tap-name names one tap; it cannot go with --all' },
    { argv: ['attach', N, 'ep0', '--bogus'], code: 2, err: /^attach: Unknown option '--bogus'/ },
    { argv: ['attach', N, 'ep0', '--queues'], code: 2, err: /^attach: Option '--queues <value>' argument missing$/ },
    { argv: ['inspect', N, '--wait', '5x'], code: 2, err: '--wait "5x": expected a duration like 500ms, 5s or 2m' },
    // Models.
    { argv: ['attach', N, 'ep0', '--model', 'bridge'], code: 2, err: `bad model "bridge": ${MODEL}` },
    { argv: ['attach', N, 'ep0', '--model', ''], code: 2, err: `bad model "": ${MODEL}` },
    { argv: ['attach', N, 'ep0', '--model', 'TCFILTER'], code: 2, err: `bad model "TCFILTER": ${MODEL}` },
    // Queues.
    { argv: ['attach', N, 'ep0', '--queues', '0'], code: 2, err: `bad queue count "0": ${QUEUES}` },
    { argv: ['attach', N, 'ep0', '--queues', '1025'], code: 2, err: `bad queue count "1025": ${QUEUES}` },
    { argv: ['attach', N, 'ep0', '--queues', '257'], code: 2, err: `bad queue count "257": ${QUEUES}` },
    { argv: ['attach', N, 'ep0', '--queues', '00'], code: 2, err: `bad queue count "00": ${QUEUES}` },
    { argv: ['attach', N, 'ep0', '--queues=-1'], code: 2, err: `bad queue count "-1": ${QUEUES}` },
    { argv: ['attach', N, 'ep0', '--queues', '4x'], code: 2, err: `bad queue count "4x": ${QUEUES}` },
    { argv: ['attach', N, 'ep0', '--queues', '1e3'], code: 2, err: `bad queue count "1e3": ${QUEUES}` },
    { argv: ['plan', N, 'ep0', '--queues', '0x4'], code: 2, err: `bad queue count "0x4": ${QUEUES}` },
    // Tap names: 16 bytes (ASCII, and 8 two-byte characters), reserved characters, the endpoint's own.
    { argv: ['attach', N, 'ep0', '--tap-name', 'abcdefghijklmnop'], code: 2, err: `bad tap name "abcdefghijklmnop": ${TAP_NAME}` },
    { argv: ['attach', N, 'ep0', '--tap-name', 'éééééééé'], code: 2, err: `bad tap name "éééééééé": ${TAP_NAME}` },
    { argv: ['attach', N, 'ep0', '--tap-name', 'a/b'], code: 2, err: `bad tap name "a/b": ${TAP_NAME}` },
    { argv: ['attach', N, 'ep0', '--tap-name', 'a:b'], code: 2, err: `bad tap name "a:b": ${TAP_NAME}` },
    { argv: ['attach', N, 'ep0', '--tap-name', 'a b'], code: 2, err: `bad tap name "a b": ${TAP_NAME}` },
    { argv: ['attach', N, 'ep0', '--tap-name', '..'], code: 2, err: `bad tap name "..": ${TAP_NAME}` },
    { argv: ['attach', N, 'ep0', '--tap-name', 'ep0'], code: 2, err: 'bad tap name "ep0": expected a name other than the endpoint\'s own (ep0)' },
    { argv: ['attach', N, 'ep0', '--tap-name', 'tun0'], code: 1, err: `netns "${N}" already has a link "tun0" that is not this attachment: a tun tapwire did not make (choose another --tap-name)` },
    // Netns specs.
    { argv: ['plan', 'twin-no-such-ns', 'ep0'], code: 3, err: 'netns "twin-no-such-ns" not found (no /var/run/netns/twin-no-such-ns)' },
    { argv: ['plan', '/etc/hostname', 'ep0'], code: 3, err: '"/etc/hostname" is not a network namespace (/etc/hostname is a regular file, not an nsfs file)' },
    { argv: ['plan', '/proc/self/ns/mnt', 'ep0'], code: 3, err: '"/proc/self/ns/mnt" is not a network namespace (/proc/self/ns/mnt is a mnt namespace)' },
    // (A directory, e.g. /tmp, is left out: @tapwire/sys calls it "a regular file", reported.)
    { argv: ['plan', 'pid:abc', 'ep0'], code: 2, err: 'bad netns "pid:abc": expected pid:N with N a positive process id' },
    { argv: ['plan', 'pid:0', 'ep0'], code: 2, err: 'bad netns "pid:0": expected pid:N with N a positive process id' },
    { argv: ['plan', '', 'ep0'], code: 2, err: 'bad netns "": expected a netns name, a path, or pid:N' },
    { argv: ['plan', '..', 'ep0'], code: 2, err: 'bad netns "..": expected a netns name other than . and ..' },
    // Links that are missing or that no model applies to.
    { argv: ['attach', N, 'nope'], code: 1, err: `netns "${N}" has no link "nope"` },
    { argv: ['plan', N, 'nope'], code: 1, err: `netns "${N}" has no link "nope"` },
    { argv: ['check', N, 'nope'], code: 1, err: `netns "${N}" has no link "nope"` },
    { argv: ['attach', N, 'tun0'], code: 1, err: 'link "tun0" (unsupported) is not attachable: link kind "tun": tun mode is an L3 device: it carries no Ethernet frames a VM NIC could use' },
    { argv: ['attach', N, 'lo'], code: 1, err: 'link "lo" (loopback) is not attachable: loopback' },
    { argv: ['attach', N, 'ep0', '--model', 'none'], code: 1, err: 'link "ep0" is a veth endpoint: model none is not supported for it (supported: tcfilter, macvtap)' },
    { argv: ['attach', N, 'mv0'], code: 1, err: 'link "mv0" is a macvtap endpoint: model tcfilter is not supported for it (supported: none)' },
    { argv: ['attach', N, 'mv0', '--model', 'macvtap'], code: 1, err: 'link "mv0" is a macvtap endpoint: model macvtap is not supported for it (supported: none)' },
    { argv: ['attach', N, 'vu0'], code: 1, err: 'link "vu0" is a vhost-user endpoint: it is passed through to the VM as it is, no network model applies' },
    { argv: ['attach', N, 'ep0', '--tap', 'ep0'], code: 1, err: 'link "ep0" (veth) is not attachable: named as a tap to hand over as is, but it is veth, not a tap-mode tun' },
    { argv: ['attach', N, 'vmtap0', '--tap', 'vmtap0', '--model', 'none', '--queues', '2'], code: 1, err: 'link "vmtap0": 2 queues not possible: the tap was made without multi_queue' },
    { argv: ['attach', N, 'vmtap0', '--tap', 'vmtap0', '--model', 'none', '--tap-name', 'x0'], code: 2, err: 'bad tap name "x0": expected no override: model none hands vmtap0 itself to the VM' },
    // State tapwire must not touch.
    { argv: ['attach', N, 'ep2'], code: 1, err: `link "ep2" in netns "${N}" already has an ingress qdisc tapwire did not make; refusing to touch it (model tcfilter needs its own)` },
    { argv: ['attach', N, 'big0'], code: 1, err: 'link "big0" has MTU 65535, but a tap takes 68 to 65521 (use model macvtap, or lower the link\'s MTU)' },
    { argv: ['attach', N, 'ep3'], code: 1, err: `netns "${N}" already has a link "${foreign}" that is not this attachment: a veth tapwire did not make (choose another --tap-name)` },
    { argv: ['attach', N, 'ep4'], code: 1, err: `link "ep4" in netns "${N}" has a tapwire attachment (${halfMade}) that drifted: ${halfMade} is a half-made tapwire tap for ep4 (an attach died before recording it); detach it first` },
    // --all plans every endpoint before reading anything: mv0 is handed over as it is
    // (model none), but big0 cannot take a tap, so nothing is tried.
    { argv: ['attach', N, '--all'], code: 1, err: 'link "big0" has MTU 65535, but a tap takes 68 to 65521 (use model macvtap, or lower the link\'s MTU)' },
    // Malformed JSON to a decoder.
    { argv: ['cni', 'macvtap-resources', '--conf', '{bad'], code: 2, err: /^cni macvtap-resources: DP_MACVTAP_CONF is not JSON: / },
    { argv: ['cni', 'macvtap-resources', '--conf', '[{"name": 5}]'], code: 2, err: 'cni macvtap-resources: DP_MACVTAP_CONF[0].name: expected string, got 5; DP_MACVTAP_CONF[0].lowerDevice: expected string, got nothing' },
    { argv: ['cni', 'macvtap-resources', '--conf', '{}'], code: 2, err: 'cni macvtap-resources: DP_MACVTAP_CONF: expected DP_MACVTAP_CONF, got {}' },
    { argv: ['cni', 'bogus'], code: 2, err: 'cni: expected install, daemon, measure or macvtap-resources' },
  ];

  // A PCI NIC in this process's own netns (on this machine eth0, virtio_net): plan only,
  // which reads and never changes anything, since this is the host's netns.
  const own = resolveNetns(`/proc/${process.pid}/ns/net`);
  const snap = E.isRight(own) ? await scan(own.right)() : undefined;
  const physical = snap !== undefined && E.isRight(snap) ? classify(snap.right).find((e) => e.kind === 'physical') : undefined;
  if (physical === undefined) t.log('no PCI NIC in this netns: the physical pass-through row is left out');
  else rows.push({ argv: ['plan', `/proc/${process.pid}/ns/net`, physical.link.name], code: 1, err: `link "${physical.link.name}" is a physical endpoint: it is passed through to the VM as it is, no network model applies` });

  t.true(rows.length >= 30, `${rows.length} rows`);
  const before = await stateOf(ns.right);
  for (const row of rows) {
    const r = await cli(row.argv);
    const line = r.err.split('\n')[0] ?? '';
    const where = JSON.stringify(row.argv);
    t.is(r.code, row.code, `${where}: exit code (stderr: ${line})`);
    t.true(line.startsWith('tapwire: error: '), `${where}: ${line}`);
    const text = line.slice('tapwire: error: '.length);
    if (typeof row.err === 'string') t.is(text, row.err, where);
    else t.regex(text, row.err, where);
    t.is(r.out, '', `${where}: nothing on stdout`);
    t.deepEqual(await stateOf(ns.right), before, `${where} left the netns as it was`);
  }
  t.log(`${rows.length} bad inputs`);
});
