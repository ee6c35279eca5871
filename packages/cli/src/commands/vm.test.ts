// tapwire vm as a person drives it: `vm start` in the foreground (a child
// process), then list, add (tcfilter, 2 queues), remove, stop from other
// processes; the start process exits 0, its entry is gone and the netns is as
// before. Bad command lines exit 2 and name what was wrong.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';

const BIN = fileURLToPath(new URL('../../bin/tapwire.js', import.meta.url));
const tapwire = (args: readonly string[]) => execa('node', [BIN, ...args], { reject: false, timeout: 300_000 });

const state = async (ns: string): Promise<string> => {
  const parts = await Promise.all([['-o', '-d', 'link'], ['-o', 'addr'], ['route', 'show', 'table', 'all']].map((a) => execa('ip', ['-n', ns, ...a]).then((r) => r.stdout)));
  const tc = await execa('tc', ['-n', ns, 'qdisc', 'show']);
  return [...parts, tc.stdout].map((x) => x.split('\n').sort().join('\n')).join('\n').replace(/valid_lft \S+ preferred_lft \S+/g, '').replace(/ tentative/g, '');
};

test('vm start, list, add, remove, stop: a NIC comes and goes on a running VM, and everything ends as before', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  const vmDir = mkdtempSync(join(tmpdir(), 'tw-vms-'));
  t.teardown(() => rmSync(vmDir, { recursive: true, force: true }));
  const pod = await makeNetns(t, 'twvm');
  const peer = await makeNetns(t, 'twvmp');
  await sh(['ip', '-n', pod.name, '-batch', '-'], `link add vA address 02:79:00:00:00:02 type veth peer name vB netns ${peer.name}\naddr add 10.79.0.2/24 dev vA\nlink set vA up\n`);
  await sh(['ip', '-n', peer.name, '-batch', '-'], 'addr add 10.79.0.1/24 dev vB\nlink set vB up\n');
  // DAD on the new veth: its link-local address (and local route) settle first.
  for (let i = 0; i < 100 && (await execa('ip', ['-n', pod.name, '-o', 'addr'])).stdout.includes('tentative'); i++) await new Promise((r) => setTimeout(r, 100));
  const before = await state(pod.name);
  const name = `t${process.pid}`;
  const start = execa('node', [BIN, 'vm', 'start', pod.name, '--name', name, '--vm-dir', vmDir, '--queues', '2', '--json'], { reject: false, buffer: false, timeout: 600_000 });
  t.teardown(() => {
    if (start.exitCode === null) start.kill('SIGTERM');
  });
  let out = '';
  start.stdout?.setEncoding('utf8');
  start.stdout?.on('data', (c: string) => (out += c));
  const deadline = Date.now() + 300_000;
  while (!out.includes('"event":"running"') && start.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const running = JSON.parse(out.split('\n').find((l) => l.includes('"event":"running"')) ?? 'null') as { qmpSocket: string; name: string } | null;
  if (running === null) return t.fail(`vm start did not come up: ${out}`);
  t.is(running.name, name);
  t.true(existsSync(running.qmpSocket), 'it prints its QMP socket');
  // Ours to use while vm start holds its own monitor.
  const qmp = await new Promise<string>((resolve) => {
    let got = '';
    const s = connect(running.qmpSocket);
    s.setEncoding('utf8');
    s.on('connect', () => s.write('{"execute":"qmp_capabilities"}\n{"execute":"query-status"}\n'));
    s.on('data', (c: string) => {
      got += c;
      if (got.includes('"status"')) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', (e) => resolve(e.message));
    setTimeout(() => {
      s.destroy();
      resolve(got);
    }, 10_000);
  });
  t.regex(qmp, /"status": "running"/);

  const list = await tapwire(['vm', 'list', '--vm-dir', vmDir, '--json']);
  t.is(list.exitCode, 0, list.stderr);
  t.like((JSON.parse(list.stdout) as unknown[])[0], { name, alive: true });

  const add = await tapwire(['vm', 'add', name, pod.name, 'vA', '--queues', '2', '--vm-dir', vmDir, '--json']);
  t.is(add.exitCode, 0, add.stderr);
  const nic = JSON.parse(add.stdout) as { link: string; queues: number; pciAddress: string | null };
  t.like(nic, { link: 'vA', queues: 2 });
  t.regex(nic.pciAddress ?? '', /^0000:[0-9a-f]{2}:00\.0$/);
  t.not(await state(pod.name), before, 'attached while plugged');
  const listed = await tapwire(['vm', 'list', '--vm-dir', vmDir]);
  t.regex(listed.stdout, /vA .*\(tcfilter, 2 queue\(s\)\)/);

  const twice = await tapwire(['vm', 'remove', name, 'nosuch', '--vm-dir', vmDir]);
  t.is(twice.exitCode, 1);
  t.regex(twice.stderr, /no NIC for link nosuch/);
  const remove = await tapwire(['vm', 'remove', name, 'vA', '--vm-dir', vmDir]);
  t.is(remove.exitCode, 0, remove.stderr);
  t.regex(remove.stdout, /unplugged .*guest reports it gone/);
  t.is(await state(pod.name), before, 'the netns is as before after remove');

  // Plugged again, then stop takes it out too.
  const again = await tapwire(['vm', 'add', name, pod.name, 'vA', '--vm-dir', vmDir]);
  t.is(again.exitCode, 0, again.stderr);
  const stop = await tapwire(['vm', 'stop', name, '--vm-dir', vmDir]);
  t.is(stop.exitCode, 0, stop.stderr);
  const ended = await start;
  t.is(ended.exitCode, 0, String(ended.stderr ?? ''));
  t.regex(out, /"event":"stopped"/);
  t.false(existsSync(join(vmDir, name)), 'its entry is gone');
  t.is(await state(pod.name), before, 'the netns is as before after stop');
});

test('vm: bad command lines exit 2, an unknown VM exits 1', async (t) => {
  const vmDir = mkdtempSync(join(tmpdir(), 'tw-vms-'));
  t.teardown(() => rmSync(vmDir, { recursive: true, force: true }));
  const cases: [string[], number, RegExp][] = [
    [['vm'], 2, /expected start, add, remove, list or stop/],
    [['vm', 'frob'], 2, /unknown vm command "frob"/],
    [['vm', 'add', 'x', 'ns'], 2, /add: expected <vm> <netns> <link>/],
    [['vm', 'add', 'x', 'ns', 'l', '--queues', '0'], 2, /--queues "0"/],
    [['vm', 'start', 'ns', '--nics', 'some'], 2, /--nics "some": expected none or all/],
    [['vm', 'start', 'ns', '--name', '../x'], 2, /--name/],
    [['vm', 'stop', 'nosuch', '--vm-dir', vmDir], 1, /no VM named nosuch/],
  ];
  for (const [args, code, re] of cases) {
    const r = await tapwire(args);
    t.is(r.exitCode, code, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re, args.join(' '));
  }
  const list = await tapwire(['vm', 'list', '--vm-dir', vmDir]);
  t.is(list.stdout.trim(), 'no VMs');
});

test('vm start --nics all plugs every link; SIGTERM unplugs and detaches them all before it exits', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  const vmDir = mkdtempSync(join(tmpdir(), 'tw-vms-'));
  t.teardown(() => rmSync(vmDir, { recursive: true, force: true }));
  const pod = await makeNetns(t, 'twva');
  const peer = await makeNetns(t, 'twvap');
  await sh(['ip', '-n', pod.name, '-batch', '-'], `link add eth0 type veth peer name p0 netns ${peer.name}\naddr add 10.81.0.2/24 dev eth0\nlink set eth0 up\nlink add eth1 type veth peer name p1 netns ${peer.name}\naddr add 10.82.0.2/24 dev eth1\nlink set eth1 up\n`);
  for (let i = 0; i < 100 && (await execa('ip', ['-n', pod.name, '-o', 'addr'])).stdout.includes('tentative'); i++) await new Promise((r) => setTimeout(r, 100));
  const before = await state(pod.name);
  const name = `a${process.pid}`;
  const start = execa('node', [BIN, 'vm', 'start', pod.name, '--nics', 'all', '--name', name, '--vm-dir', vmDir], { reject: false, buffer: false, timeout: 600_000 });
  t.teardown(() => {
    if (start.exitCode === null) start.kill('SIGKILL');
  });
  let out = '';
  start.stdout?.setEncoding('utf8');
  start.stdout?.on('data', (c: string) => (out += c));
  const deadline = Date.now() + 300_000;
  while (!out.includes('API socket') && start.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  t.regex(out, /NIC hot0: eth0 .*\nNIC hot1: eth1 /);
  const list = await tapwire(['vm', 'list', '--vm-dir', vmDir, '--json']);
  const vms = JSON.parse(list.stdout) as { vm?: { nics: { link: string }[] } }[];
  t.deepEqual(vms[0]?.vm?.nics.map((n) => n.link), ['eth0', 'eth1']);
  start.kill('SIGTERM');
  const ended = await start;
  t.is(ended.exitCode, 0);
  t.regex(out, /stopped \(asked\)/);
  t.false(existsSync(join(vmDir, name)));
  t.is(await state(pod.name), before, 'the netns is as before');
});
