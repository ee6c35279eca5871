// `tapwire launch` through the real executable: a Ctrl-C at any point (here
// during the attach and during QEMU's start-up) ends the launch with the VM
// gone and the netns as found; the text output shows the stages once (live,
// on stderr) and no table after them; a dry run works on a pod that
// `tapwire attach` attached beforehand.
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { netnsState } from '@tapwire/netmodel';
import { guestImage, qemuPidsIn, requireGuestBoot, vethPod } from '@tapwire/qemu/testing';

const BIN = fileURLToPath(new URL('../../bin/tapwire.js', import.meta.url));
const PEER = '10.93.0.1';


/** eth0 (veth) to a peer netns, default route via the peer; IPv6 link-local settled. */
const podWithPeer = (t: ExecutionContext) => vethPod(t, { prefixes: ['twcl', 'twcm'], nets: ['10.93.0'], defaultRoute: true });

const tapwire = (args: readonly string[], timeout = 300_000) => execa('node', [BIN, ...args], { reject: false, timeout });

/** The stage line progressPrinter writes when a stage ends (not a terminal: one line per end). */
const ended = (stage: string): RegExp => new RegExp(`^  . ${stage} `, 'm');

test.before(async () => {
  // The launch's default guest image, made once before any child needs it.
  await guestImage();
});

// SIGINT right after a stage ends: `attach` running (scan ended), QEMU starting (fds ended).
for (const after of ['scan', 'fds'] as const) {
  test.serial(`SIGINT once ${after} has ended: exit 1, interrupted, no QEMU left, netns as found`, async (t) => {
    if (!requireGuestBoot(t)) return;
    const pod = await podWithPeer(t);
    const before = await netnsState(pod.handle)();
    const started = Date.now();
    const child = execa('node', [BIN, 'launch', pod.name, '--accel', 'tcg', '--ping', PEER, '--timeout', '180s'], { reject: false, timeout: 300_000 });
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    for (let i = 0; i < 1200 && !ended(after).test(stderr); i++) await new Promise((r) => setTimeout(r, 25));
    t.regex(stderr, ended(after), `the ${after} stage ended before the interrupt`);
    child.kill('SIGINT');
    const r = await child;
    t.log(`interrupted after ${after}: exited ${Date.now() - started} ms after start`);
    t.is(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
    t.regex(r.stderr, /interrupted/);
    t.deepEqual(await qemuPidsIn(pod.path), [], 'no QEMU left running in the pod netns');
    t.deepEqual(await netnsState(pod.handle)(), before, 'the pod netns is exactly as it was');
  });
}

test.serial('text mode: the stages once (live on stderr), no stage table after them; the guest pings', async (t) => {
  if (!requireGuestBoot(t)) return;
  const pod = await podWithPeer(t);
  const started = Date.now();
  const r = await tapwire(['launch', pod.name, '--accel', 'tcg', '--ping', PEER, '--timeout', '180s']);
  t.log(`launch took ${Date.now() - started} ms`);
  t.is(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  for (const stage of ['scan', 'attach', 'fds', 'boot', 'net-up', 'ping', 'teardown']) {
    t.is(r.stderr.split('\n').filter((l) => ended(stage).test(`${l}\n`)).length, 1, `${stage} shown once: ${r.stderr}`);
    t.false(new RegExp(`^${stage}\\b`, 'm').test(r.stdout), `no table row for ${stage}: ${r.stdout}`);
  }
  t.false(r.stdout.includes('STAGE'), r.stdout);
  t.regex(r.stdout, new RegExp(`guest reached ${PEER.replace(/\./g, '\\.')}`));
  t.deepEqual(await qemuPidsIn(pod.path), []);
});

/**
 * The netns state once IPv6 has settled (no address still tentative: DAD ends by
 * adding routes) and two reads 250 ms apart agree (at most ~10 s).
 */
const settledState = async (pod: { readonly name: string; readonly handle: Parameters<typeof netnsState>[0] }) => {
  let last = await netnsState(pod.handle)();
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const tentative = (await execa('ip', ['-n', pod.name, '-6', 'addr', 'show', 'tentative'], { reject: false })).stdout.trim();
    const now = await netnsState(pod.handle)();
    if (tentative === '' && JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
};

test.serial('dry run on a pod `tapwire attach` attached with macvtap: the command line, nothing changed', async (t) => {
  if (!requireGuestBoot(t)) return;
  const pod = await podWithPeer(t);
  const attached = await tapwire(['attach', pod.name, 'eth0', '--model', 'macvtap'], 60_000);
  t.teardown(async () => {
    await tapwire(['detach', pod.name, '--all'], 60_000);
  });
  t.is(attached.exitCode, 0, `${attached.stdout}\n${attached.stderr}`);
  // The kernel gives the new macvtap its link-local address and fe80::/64 route after
  // attach returns (DAD; slower under load): compare against the settled netns.
  const before = await settledState(pod);
  // No --model: the attachment is used as it is.
  const r = await tapwire(['launch', pod.name, '--dry-run', '--ping', PEER], 60_000);
  t.is(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  t.regex(r.stdout, /^qemu-system-x86_64 /m);
  t.regex(r.stdout, /10\.93\.0\.2\/24/, 'the guest gets eth0\'s address back from the macvtap\'s record');
  t.deepEqual(await netnsState(pod.handle)(), before);
  // --model names the attachment wanted: the same one is used, another one refused.
  const json = await tapwire(['launch', pod.name, '--model', 'macvtap', '--dry-run', '--json'], 60_000);
  t.is(json.exitCode, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { attachments: { link: string; model: string; existing?: boolean }[]; stages: unknown[] };
  t.deepEqual(out.attachments.map((a) => [a.link, a.model, a.existing]), [['eth0', 'macvtap', true]]);
  t.true(out.stages.length > 0, '--json still carries its stages');
  const other = await tapwire(['launch', pod.name, '--model', 'tcfilter', '--dry-run'], 60_000);
  t.is(other.exitCode, 1, other.stderr);
  t.regex(other.stderr, /already attached by tapwire through tw\d+ \(model macvtap/);
  t.deepEqual(await netnsState(pod.handle)(), before);
});
