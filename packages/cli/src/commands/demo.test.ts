// The README's main job, end to end through the real executable, and the
// promise that an interrupted launch leaves nothing behind.
import { readlinkSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';

const BIN = fileURLToPath(new URL('../../bin/tapwire.js', import.meta.url));

const netnsList = async (): Promise<string[]> => (await sh(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
/** QEMU processes whose netns is the given one (QEMU's argv does not name the netns). */
const qemuPidsIn = async (nsPath: string): Promise<string[]> => {
  const inode = statSync(nsPath).ino;
  const pids = (await execa('pgrep', ['-f', 'qemu-system-x86_64'], { reject: false })).stdout.split('\n').filter(Boolean);
  return pids.filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`) === `net:[${inode}]`;
    } catch {
      return false;
    }
  });
};

test.serial('tapwire demo boots a guest that pings the peer and tears everything down', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  const r = await execa('node', [BIN, 'demo', '--json', '--accel', 'tcg'], { reject: false, timeout: 300_000 });
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    pod: string;
    peer: string;
    guest: { pings: { _tag: string }[]; queues: Record<string, number> };
    stages: { stage: string; status: string }[];
    attachments: { queues: number; model: string }[];
  };
  t.true(out.ok);
  t.deepEqual(out.guest.pings.map((p) => p._tag), ['PingOk']);
  t.deepEqual(out.attachments.map((a) => [a.model, a.queues]), [['tcfilter', 2]]);
  t.deepEqual(
    out.stages.map((s) => s.stage),
    ['scan', 'attach', 'fds', 'boot', 'net-up', 'ping', 'teardown'],
  );
  t.true(out.stages.every((s) => s.status === 'ok'), JSON.stringify(out.stages));
  const left = await netnsList();
  t.false(left.includes(out.pod));
  t.false(left.includes(out.peer));
});

test.serial('SIGINT during boot stops QEMU and restores the netns', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  const pod = await makeNetns(t, 'twsig');
  const peer = await makeNetns(t, 'twsigp');
  await sh(['ip', '-n', pod.name, '-batch', '-'], `link add eth0 type veth peer name p0 netns ${peer.name}\naddr add 10.91.0.2/24 dev eth0\nlink set eth0 up\n`);
  const before = await sh(['ip', '-n', pod.name, '-br', 'link']);
  const child = execa('node', [BIN, 'launch', pod.name, '--accel', 'tcg', '--ping', '10.91.0.1'], { reject: false, timeout: 120_000 });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // Interrupt once the VM is being booted.
  for (let i = 0; i < 300 && !stderr.includes('fds'); i++) await new Promise((r) => setTimeout(r, 50));
  let running: string[] = [];
  for (let i = 0; i < 100 && running.length === 0; i++) {
    running = await qemuPidsIn(pod.path);
    if (running.length === 0) await new Promise((r) => setTimeout(r, 50));
  }
  t.is(running.length, 1, 'QEMU was running in the pod netns when interrupted');
  child.kill('SIGINT');
  const r = await child;
  t.not(r.exitCode, 0);
  t.regex(r.stderr, /interrupted/);
  t.deepEqual(await qemuPidsIn(pod.path), [], 'no QEMU left running in the pod netns');
  t.is(await sh(['ip', '-n', pod.name, '-br', 'link']), before);
});
