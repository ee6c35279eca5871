// The thick mode's edges: the forwarder with no daemon (code 11), a stale
// socket, a second daemon on a live socket, an unknown plugin name, the
// socket's mode, and calls in parallel (many pods at once, one pod's calls
// one after the other). The conformance tests run through plugins/*.thick.test.
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';
import { envOf, invoke, leases, pluginsForTests, REFERENCE_DIR, startDaemonForTests, tempDir, type PodEnv } from '../testing.js';
import { startDaemon } from './daemon.js';
import { installForwarders } from './forwarder.js';

const scratch = (t: ExecutionContext): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-thick-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

const forwarders = (t: ExecutionContext, socket: string): string => {
  const bin = join(scratch(t), 'bin');
  const r = installForwarders(bin, socket);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return bin;
};

const pod = (netns: string, containerId = 'cthick'): PodEnv => ({ containerId, netns, ifname: 'eth0', path: [REFERENCE_DIR] });

test('no daemon: the forwarder answers CNI code 11 (try again later) in the config\'s cniVersion, naming the socket', async (t) => {
  if (!requireCommand(t, 'cc')) return;
  const socket = join(scratch(t), 'absent.sock');
  const bin = forwarders(t, socket);
  const r = await invoke(join(bin, 'tap'), envOf('ADD', pod('/proc/self/ns/net')), JSON.stringify({ cniVersion: '0.4.0', name: 'n', type: 'tap' }));
  t.is(r.exitCode, 1);
  t.like(r.json, { cniVersion: '0.4.0', code: 11 });
  t.regex(String(r.json?.['msg']), /daemon is not running/);
  t.true(String(r.json?.['details']).includes(socket));
});

test('a stale socket file (nobody listening) is code 11 too; a daemon replaces it and serves', async (t) => {
  if (!requireCommand(t, 'cc')) return;
  const dir = scratch(t);
  const socket = join(dir, 'stale.sock');
  // A listener killed with SIGKILL leaves its socket file behind (a clean close would unlink it).
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => child.stdout.once('data', r));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.true(statSync(socket).isSocket());
  const bin = forwarders(t, socket);
  const version = async () => invoke(join(bin, 'macvtap'), { CNI_COMMAND: 'VERSION' }, '');
  const down = await version();
  t.like(down.json, { code: 11 });
  const d = await startDaemonForTests(socket);
  t.teardown(d.stop);
  const up = await version();
  t.is(up.exitCode, 0, up.stdout);
  t.like(up.json, { cniVersion: '1.1.0' });
});

test('a second daemon refuses a socket a daemon answers on; the socket is mode 0600 and gone after stop', async (t) => {
  const socket = join(scratch(t), 'cni.sock');
  const first = await startDaemon(socket)();
  if (E.isLeft(first)) return t.fail(JSON.stringify(first.left));
  t.teardown(first.right.close);
  t.is(statSync(socket).mode & 0o777, 0o600);
  t.deepEqual(await startDaemon(socket)(), E.left({ _tag: 'SocketInUse', socket }));
  await first.right.close();
  t.throws(() => statSync(socket));
});

test('a forwarder under a name that is no plugin gets a CNI error naming the plugins', async (t) => {
  if (!requireCommand(t, 'cc')) return;
  const socket = join(scratch(t), 'cni.sock');
  const bin = forwarders(t, socket);
  copyFileSync(join(bin, 'tap'), join(bin, 'bridge'));
  const d = await startDaemonForTests(socket);
  t.teardown(d.stop);
  const r = await invoke(join(bin, 'bridge'), { CNI_COMMAND: 'VERSION' }, '');
  t.is(r.exitCode, 1);
  t.like(r.json, { code: 100, msg: 'no tapwire CNI plugin named "bridge"' });
  t.regex(String(r.json?.['details']), /tap, macvtap, tc-redirect-tap/);
});

test('parallel calls: 6 pods ADD at once and all get their tap and lease; one pod\'s CHECKs fired together all pass; DEL leaves nothing', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'cc') || !requireCommand(t, `${REFERENCE_DIR}/host-local`)) return;
  const plugins = await pluginsForTests('thick');
  t.teardown(plugins.stop);
  const data = tempDir('tapwire-cni-ipam-');
  t.teardown(data.remove);
  const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'par', type: 'tap', ipam: { type: 'host-local', dataDir: data.path, ranges: [[{ subnet: '10.215.0.0/24' }]] } });
  const netns = await Promise.all([0, 1, 2, 3, 4, 5].map(() => makeNetns(t, 'twpar')));
  const pods = netns.map((ns): PodEnv => ({ containerId: `c${ns.name}`, netns: ns.path, ifname: 'tap0', path: [plugins.dir, REFERENCE_DIR] }));
  const tap = join(plugins.dir, 'tap');
  t.teardown(async () => void (await Promise.all(pods.map((p) => invoke(tap, envOf('DEL', p), conf)))));
  const adds = await Promise.all(pods.map((p) => invoke(tap, envOf('ADD', p), conf)));
  t.deepEqual(adds.map((a) => a.exitCode), [0, 0, 0, 0, 0, 0], adds.map((a) => a.stdout).join('\n'));
  const ips = adds.map((a) => (a.json?.['ips'] as { address: string }[] | undefined)?.[0]?.address);
  t.is(new Set(ips).size, 6, JSON.stringify(ips));
  t.is(leases(data.path).length, 6);
  const first = pods[0] as PodEnv;
  const withPrev = JSON.stringify({ ...(JSON.parse(conf) as object), prevResult: adds[0]?.json });
  const checks = await Promise.all([0, 1, 2, 3].map(() => invoke(tap, envOf('CHECK', first), withPrev)));
  t.deepEqual(checks.map((c) => [c.exitCode, c.stdout]), [[0, ''], [0, ''], [0, ''], [0, '']]);
  const dels = await Promise.all(pods.map((p) => invoke(tap, envOf('DEL', p), conf)));
  t.deepEqual(dels.map((d) => d.exitCode), [0, 0, 0, 0, 0, 0]);
  t.deepEqual(leases(data.path), []);
  t.is(plugins.daemonLog().split('\n').filter((l) => / ADD c/.test(l)).length, 6);
});
