// tapwire launch and vhost-user at the command line: the help names
// --vhost-user-dir, and the flag reaches the scan (a dry run renders the NIC).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { captureOutput } from '../capture.js';
import { runCli } from '../main.js';

test('launch --help lists --vhost-user-dir and where the sockets are looked for', async (t) => {
  const io = captureOutput();
  t.is(await runCli(['launch', '--help'], io), 0);
  t.regex(io.stdout(), /\[--vhost-user-dir DIR\]/);
  t.regex(io.stdout(), /DIR\/vhostuser_<address>\/vhu\.sock/);
  t.regex(io.stdout(), /default \/tmp/);
});

test('launch --vhost-user-dir --dry-run --accel tcg renders the vhost-user NIC with INTx', async (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-vu-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const addr = '10.94.0.2';
  mkdirSync(join(dir, `vhostuser_${addr}`));
  const socket = join(dir, `vhostuser_${addr}`, 'vhu.sock');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const pod = await makeNetns(t, 'twvc');
  await sh(['ip', '-n', pod.name, '-batch', '-'], `link add eth0 type veth peer name eth0p\naddr add ${addr}/24 dev eth0\nlink set eth0 up\n`);

  const io = captureOutput();
  const code = await runCli(['launch', pod.name, '--vhost-user-dir', dir, '--dry-run', '--accel', 'tcg'], io);
  t.is(code, 0, io.stderr());
  t.true(io.stdout().includes(`-chardev socket,id=chr-net0,path=${socket}`), io.stdout());
  t.regex(io.stdout(), /-netdev vhost-user,id=net0,chardev=chr-net0 /);
  t.regex(io.stdout(), /virtio-net-pci,netdev=net0,mac=[0-9a-f:]+,romfile=,vectors=0/);

  const without = captureOutput();
  t.is(await runCli(['launch', pod.name, '--dry-run', '--accel', 'tcg'], without), 0, without.stderr());
  t.notRegex(without.stdout(), /vhost-user/, 'without the flag the socket in DIR is not found: eth0 is a plain veth');
});
