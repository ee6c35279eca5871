import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { captureOutput } from '../capture.js';
import { runCli } from '../main.js';

const BIN = fileURLToPath(new URL('../../bin/tapwire.js', import.meta.url));

interface Row {
  name: string;
  kind: string;
  reason: string;
  skipped: string | null;
  mac: string | null;
  addresses: string[];
}

const inspectJson = async (args: string[]): Promise<Row[]> => {
  const io = captureOutput();
  const code = await runCli(['inspect', ...args, '--json'], io);
  if (code !== 0) throw new Error(`inspect exited ${code}: ${io.stderr()}`);
  return JSON.parse(io.stdout()) as Row[];
};

test('inspect --json classifies real veth, macvlan, macvtap, tap, tun and bridge links', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  const ip = (...a: string[]) => sh(['ip', '-n', ns.name, ...a]);
  await ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v0p');
  await ip('addr', 'add', '10.31.0.2/24', 'dev', 'v0');
  await ip('link', 'set', 'v0', 'up');
  await ip('link', 'add', 'link', 'v0p', 'name', 'mvl', 'type', 'macvlan', 'mode', 'bridge');
  await ip('addr', 'add', '10.31.1.2/24', 'dev', 'mvl');
  await ip('link', 'add', 'link', 'v0p', 'name', 'mvt', 'type', 'macvtap', 'mode', 'bridge');
  await ip('addr', 'add', '10.31.2.2/24', 'dev', 'mvt');
  await ip('tuntap', 'add', 'dev', 'tp', 'mode', 'tap', 'vnet_hdr', 'multi_queue');
  await ip('addr', 'add', '10.31.3.2/24', 'dev', 'tp');
  await ip('tuntap', 'add', 'dev', 'tn', 'mode', 'tun');
  await ip('addr', 'add', '10.31.4.2/24', 'dev', 'tn');
  await ip('link', 'add', 'name', 'br', 'type', 'bridge');
  await ip('addr', 'add', 'fd31::2/64', 'dev', 'br', 'nodad');

  const rows = await inspectJson([ns.name]);
  const kind = (n: string) => rows.find((r) => r.name === n);
  t.is(kind('lo')?.kind, 'loopback');
  t.is(kind('v0')?.kind, 'veth');
  t.is(kind('v0')?.skipped, null);
  t.deepEqual(kind('v0')?.addresses.filter((a) => a.startsWith('10.')), ['10.31.0.2/24']);
  t.is(kind('v0p')?.skipped, 'no addresses');
  t.is(kind('mvl')?.kind, 'macvlan');
  t.is(kind('mvt')?.kind, 'macvtap');
  t.is(kind('tp')?.kind, 'tuntap');
  t.regex(kind('tp')?.reason ?? '', /multi-queue/);
  t.is(kind('tn')?.kind, 'unsupported');
  t.regex(kind('tn')?.reason ?? '', /L3/);
  t.is(kind('br')?.kind, 'unsupported');
  t.regex(kind('br')?.reason ?? '', /bridge/);
  for (const r of rows) t.true(r.reason.length > 0);
});

test('inspect prints names with ; quotes $(...) and non-ASCII exactly as the kernel has them', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  const names = ['a;b', "q'x\"y", '$(touch)', 'é-ü', '#hash'];
  for (const [i, n] of names.entries()) {
    await sh(['ip', '-n', ns.name, 'link', 'add', n, 'type', 'veth', 'peer', 'name', `peer${i}`]);
    await sh(['ip', '-n', ns.name, 'addr', 'add', `10.32.${i}.2/24`, 'dev', n]);
  }
  const rows = await inspectJson([ns.name]);
  for (const n of names) t.is(rows.find((r) => r.name === n)?.kind, 'veth', n);
  const io = captureOutput();
  t.is(await runCli(['inspect', ns.name], io), 0);
  for (const n of names) t.true(io.stdout().includes(n), n);
});

test('inspect finds a vhost-user socket for one of the link addresses', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  const dir = mkdtempSync(join(tmpdir(), 'twvhu-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await sh(['ip', '-n', ns.name, 'link', 'add', 'vu0', 'type', 'veth', 'peer', 'name', 'vu0p']);
  await sh(['ip', '-n', ns.name, 'addr', 'add', '10.33.0.2/24', 'dev', 'vu0']);
  const sockDir = join(dir, 'vhostuser_10.33.0.2');
  await sh(['mkdir', sockDir]);
  const server = (await import('node:net')).createServer();
  await new Promise<void>((r) => server.listen(join(sockDir, 'vhu.sock'), r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  // A regular file of that name is not a socket and must not count.
  writeFileSync(join(dir, 'not-a-socket'), '');
  const rows = await inspectJson([ns.name, '--vhost-user-dir', dir]);
  t.is(rows.find((r) => r.name === 'vu0')?.kind, 'vhost-user');
  t.is(rows.find((r) => r.name === 'vu0p')?.kind, 'veth');
});

test('inspect accepts a path and pid:N as well as a name', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  t.is((await inspectJson([ns.path]))[0]?.name, 'lo');
  const rows = await inspectJson([`pid:${process.pid}`]);
  t.true(rows.some((r) => r.kind === 'loopback'));
});

test('inspect --wait sees a link that appears later', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  setTimeout(() => {
    void sh(['ip', '-n', ns.name, 'link', 'add', 'late', 'type', 'veth', 'peer', 'name', 'latep'])
      .then(() => sh(['ip', '-n', ns.name, 'addr', 'add', '10.34.0.2/24', 'dev', 'late']));
  }, 300);
  const rows = await inspectJson([ns.name, '--wait', '10s']);
  t.is(rows.find((r) => r.name === 'late')?.kind, 'veth');
  const io = captureOutput();
  const empty = await makeNetns(t);
  t.is(await runCli(['inspect', empty.name, '--wait', '300ms'], io), 1);
  t.regex(io.stderr(), /no attachable link appeared/);
});

test('bad netns input gives typed one-line errors and exit codes', async (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'twbad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'regular');
  writeFileSync(file, 'x');
  const cases: [string[], number, RegExp][] = [
    [['inspect', 'tw-no-such-netns'], 3, /netns "tw-no-such-netns" not found \(no \/var\/run\/netns\/tw-no-such-netns\)/],
    [['inspect', file], 3, /is not a network namespace .*regular file/],
    [['inspect', dir], 3, /is not a network namespace .*is a directory/],
    [['inspect', '/proc/self/ns/mnt'], 3, /is not a network namespace .*mnt namespace/],
    [['inspect', 'pid:abc'], 2, /expected pid:N/],
    [['inspect'], 2, /expected exactly one netns/],
    [['inspect', 'x', '--wait', 'soon'], 2, /--wait "soon": expected a duration/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
  ];
  for (const [argv, code, msg] of cases) {
    const r = await execa('node', [BIN, ...argv], { reject: false });
    t.is(r.exitCode, code, argv.join(' '));
    t.regex(r.stderr, msg, argv.join(' '));
    t.regex(r.stderr.split('\n')[0] ?? '', /^tapwire: error: /);
  }
});
