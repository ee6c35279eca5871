// The plugin as a process, the way a DaemonSet runs it: started in the netns
// playing the host (nsenter), configured by DP_MACVTAP_CONF, registering
// with a kubelet that comes up after it, stopped by SIGTERM with nothing
// left behind. Plus the command line's typed errors.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';
import { parseArgs } from './main.js';
import { startKubelet, until } from './testing/kubelet.js';
import { addVeth, macvtaps, RESOURCE, tempDir } from './testing/rig.js';

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));

test('--dir: absolute, default /var/lib/kubelet/device-plugins; anything else is BadArgs', (t) => {
  t.deepEqual(parseArgs([]), E.right({ dir: '/var/lib/kubelet/device-plugins' }));
  t.deepEqual(parseArgs(['--dir', '/x']), E.right({ dir: '/x' }));
  t.deepEqual(parseArgs(['--dir=/y']), E.right({ dir: '/y' }));
  t.like(parseArgs(['--dir', 'rel']), { left: { _tag: 'BadArgs' } });
  t.like(parseArgs(['--bogus']), { left: { _tag: 'BadArgs', problem: 'device-plugin: unexpected "--bogus"' } });
});

test('as a process: waits for kubelet, registers, allocates, and on SIGTERM deletes its macvtaps and socket', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'nsenter')) return;
  const ns = await makeNetns(t, 'twdp');
  await addVeth(ns.name);
  const dir = tempDir(t);
  const child = execa('nsenter', [`--net=${ns.path}`, '--', process.execPath, BIN, '--dir', dir], {
    env: { DP_MACVTAP_CONF: JSON.stringify([{ name: 'dp', lowerDevice: 'lowr', mode: 'bridge', capacity: 2 }]) },
    reject: false,
    // execa would SIGKILL 5 s after our SIGTERM; cleanup under load (a TCG guest beside us) can take longer.
    forceKillAfterDelay: 60_000,
  });
  t.teardown(() => void child.kill('SIGKILL'));
  const socket = join(dir, 'macvtap.network.kubevirt.io_dp.sock');
  await until('the plugin socket', () => existsSync(socket), 20000);
  // Kubelet comes up only now: the plugin registers on its next look.
  const kubelet = await startKubelet(dir);
  t.teardown(() => kubelet.close());
  t.log(`registered ${await until('registration', () => (kubelet.latest(RESOURCE)?.lists.length ?? 0) > 0, 10000)} ms after kubelet came up`);
  t.deepEqual(kubelet.latest(RESOURCE)?.lists.at(-1)?.devices, [{ ID: 'dpMvp0', health: 'Healthy' }, { ID: 'dpMvp1', health: 'Healthy' }]);
  t.true(E.isRight(await kubelet.call(RESOURCE, 'Allocate', { container_requests: [{ devices_ids: ['dpMvp0', 'dpMvp1'] }] })));
  t.is((await macvtaps(ns.name)).length, 2);
  const stopping = Date.now();
  child.kill('SIGTERM');
  const done = await child;
  t.log(`exited ${Date.now() - stopping} ms after SIGTERM`);
  t.is(done.exitCode, 0, `${String(done.stderr)} signal ${done.signal ?? 'none'}`);
  t.deepEqual(await macvtaps(ns.name), []);
  t.false(existsSync(socket));
  t.regex(String(done.stderr), /offering macvtap.network.kubevirt.io\/dp \(2 on lowr, bridge\)/);
});

test('as a process: bad DP_MACVTAP_CONF exits 1 at once, naming the problem; a bad flag exits 2', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const bad = await execa(process.execPath, [BIN, '--dir', dir], { env: { DP_MACVTAP_CONF: '[{"name":"dp"}]' }, reject: false, timeout: 20000 });
  t.is(bad.exitCode, 1);
  t.regex(String(bad.stderr), /bad DP_MACVTAP_CONF: DP_MACVTAP_CONF\[0\]\.lowerDevice: expected a link name/);
  const flag = await execa(process.execPath, [BIN, '--nope'], { reject: false, timeout: 20000 });
  t.is(flag.exitCode, 2);
  t.regex(String(flag.stderr), /unexpected "--nope"\ntapwire device-plugin \[--dir DIR\]/);
});
