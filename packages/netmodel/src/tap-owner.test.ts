// A tap tapwire makes is owned by default: another uid that can open
// /dev/net/tun is refused its queue (EPERM), the owner is let in. The tun
// device is a private 0666 node in a temp dir, so the host's /dev/net/tun
// (whatever its mode) is never touched.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { attach } from './attach.js';
import { detach } from './detach.js';
import { endpointOf, makeEndpoint, netnsFixture, right } from './testing.js';

const PYTHON = '/usr/bin/python3';

// TUNSETIFF (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) on the named tap through the given tun node.
const ATTACH = `
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', sys.argv[2].encode(), 0x0002 | 0x1000 | 0x4000))
    print('attached')
except OSError as e:
    print(os.strerror(e.errno))
`;

/** A dir (removed on teardown) with a 0666 tun node and the script, reachable by any uid. */
const privateTun = (t: ExecutionContext): { node: string; script: string } => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-tun-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const node = join(dir, 'tun');
  const made = spawnSync('mknod', ['-m', '0666', node, 'c', '10', '200'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mknod: ${made.stderr}`);
  const script = join(dir, 'attach.py');
  writeFileSync(script, ATTACH, { mode: 0o644 });
  return { node, script };
};

const openAs = (netnsPath: string, uid: number, gid: number, tun: { node: string; script: string }, tap: string): string =>
  spawnSync('nsenter', [`--net=${netnsPath}`, 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', PYTHON, tun.script, tun.node, tap], { encoding: 'utf8' }).stdout.trim();

const gate = (t: ExecutionContext): boolean => requireRoot(t) && requireCommand(t, 'setpriv') && requireCommand(t, PYTHON) && requireCommand(t, 'mknod');

test('default owner: uid 65534 is refused the tap tapwire made; root (CAP_NET_ADMIN) is not', async (t) => {
  if (!gate(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const tun = privateTun(t);
  const a = right(t, await attach(ns, await endpointOf(ns, 'ep0'), 'tcfilter')());
  t.teardown(async () => void (await detach(ns, a)()));
  t.regex(await sh(['ip', '-n', ns.spec, '-d', 'link', 'show', 'dev', a.tapName]), /user root group root/);
  t.is(openAs(ns.path, 65534, 65534, tun, a.tapName), 'Operation not permitted');
  t.is(openAs(ns.path, 0, 0, tun, a.tapName), 'attached');
});

test('explicit owner and group: the VMM\'s uid gets in, another uid still does not; "none" is the old open tap', async (t) => {
  if (!gate(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const tun = privateTun(t);
  const a = right(t, await attach(ns, await endpointOf(ns, 'ep0'), 'tcfilter', { owner: 65534, group: 65534 })());
  t.is(openAs(ns.path, 65534, 65534, tun, a.tapName), 'attached');
  t.is(openAs(ns.path, 65533, 65533, tun, a.tapName), 'Operation not permitted');
  right(t, await detach(ns, a)());
  const open = right(t, await attach(ns, await endpointOf(ns, 'ep0'), 'tcfilter', { owner: null, group: null })());
  t.teardown(async () => void (await detach(ns, open)()));
  t.is(openAs(ns.path, 65533, 65533, tun, open.tapName), 'attached');
});
