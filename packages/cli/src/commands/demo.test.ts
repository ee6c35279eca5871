// The README's main job, end to end through the real executable, and the
// promise that an interrupted launch leaves nothing behind. Also how the
// stages read when KVM gives way to TCG: the fallback is a note on the boot
// line, never a failure, and every stage is listed once.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import type { StageEvent } from '@tapwire/qemu';
import { qemuPidsIn } from '@tapwire/qemu/testing';
import { makeNetns, privateMountNs, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { progressPrinter } from '../progress.js';

const BIN = fileURLToPath(new URL('../../bin/tapwire.js', import.meta.url));
const STAGE_NAMES = ['scan', 'attach', 'fds', 'boot', 'net-up', 'ping', 'teardown'];
/** Where launchPod keeps its KVM verdict until the host reboots (packages/qemu/src/session/accel.ts). */
const KVM_VERDICT_DIR = '/run/tapwire';
const FALLBACK_NOTE = 'KVM unusable here: fell back to TCG';


// The events launchPod emitted on this host (KVM opens, QEMU asserts under
// it, TCG boots), recorded with a fresh verdict cache.
const KVM_FALLBACK_EVENTS: readonly StageEvent[] = [
  { stage: 'scan', status: 'start' },
  { stage: 'scan', status: 'ok', ms: 10, note: 'eth0 (veth)' },
  { stage: 'attach', status: 'start' },
  { stage: 'attach', status: 'ok', ms: 26, note: 'eth0 -> tw2 (tcfilter, 2q)' },
  { stage: 'fds', status: 'start' },
  { stage: 'fds', status: 'ok', ms: 1, note: '2 fds' },
  { stage: 'boot', status: 'start', note: 'kvm' },
  { stage: 'boot', status: 'retry', ms: 57, note: FALLBACK_NOTE },
  { stage: 'fds', status: 'start', rerun: true },
  { stage: 'fds', status: 'ok', ms: 2, note: '2 fds', rerun: true },
  { stage: 'boot', status: 'start', note: 'tcg' },
  { stage: 'boot', status: 'ok', ms: 4071, note: `tcg, QEMU 7.2.22 running (${FALLBACK_NOTE})` },
  { stage: 'net-up', status: 'start' },
  { stage: 'net-up', status: 'ok', ms: 222 },
  { stage: 'ping', status: 'start' },
  { stage: 'ping', status: 'ok', ms: 38, note: '1/1 targets answered' },
  { stage: 'teardown', status: 'start' },
  { stage: 'teardown', status: 'ok', ms: 47, note: 'detached 1' },
];

const REDRAW = '\x1b[1A\r\x1b[2K';

/** What a terminal shows after the printer's writes: a redraw replaces the last line. */
const terminal = () => {
  const screen: string[] = [];
  const seen: string[] = [];
  return {
    write: (text: string) => {
      const redraw = text.startsWith(REDRAW);
      if (redraw) screen.pop();
      const line = redraw ? text.slice(REDRAW.length) : text;
      if (line.includes('\n')) throw new Error(`one line per write, got ${JSON.stringify(line)}`);
      screen.push(line);
      seen.push(line);
    },
    screen: () => screen,
    seen: () => seen,
  };
};

/** The stage lines of a run's output (the printer's format: two spaces, a mark, the stage). */
const stageLines = (text: string): string[] => text.split('\n').filter((l) => /^  [✔✘…-] \S/.test(l));
const stageOf = (line: string): string => line.slice(4).split(/\s+/)[0] ?? '';

test('stage lines (log): a KVM fallback is a note on one boot line, every stage once, no failure mark', (t) => {
  const lines: string[] = [];
  const print = progressPrinter((l) => lines.push(l), false);
  for (const e of KVM_FALLBACK_EVENTS) print(e);
  t.deepEqual(lines.map(stageOf), STAGE_NAMES);
  t.false(lines.some((l) => l.includes('✘')), lines.join('\n'));
  t.true(lines.every((l) => l.startsWith('  ✔ ')), lines.join('\n'));
  t.regex(lines[3] ?? '', /^  ✔ boot +4\.1 s  tcg, QEMU 7\.2\.22 running \(KVM unusable here: fell back to TCG\)$/);
  t.is(lines[2], '  ✔ fds          1 ms  2 fds');
});

test('stage lines (terminal): each stage one line, redrawn in place; the retry shows as a pending note, not a failure', (t) => {
  const term = terminal();
  const print = progressPrinter(term.write, true);
  const log: string[] = [];
  const logPrint = progressPrinter((l) => log.push(l), false);
  for (const e of KVM_FALLBACK_EVENTS) {
    print(e);
    logPrint(e);
  }
  t.deepEqual(term.screen(), log, 'the terminal ends showing what a log shows');
  t.false(term.seen().some((l) => l.includes('✘')), term.seen().join('\n'));
  t.true(term.seen().includes(`  … boot (${FALLBACK_NOTE})`));
  t.true(term.seen().includes(`  … boot (tcg; ${FALLBACK_NOTE})`));
});

test('stage lines: a stage that fails when run again for a retry is shown failed, and so is the stage that never got its retry', (t) => {
  const lines: string[] = [];
  const print = progressPrinter((l) => lines.push(l), false);
  const events: StageEvent[] = [
    { stage: 'fds', status: 'start' },
    { stage: 'fds', status: 'ok', ms: 1, note: '2 fds' },
    { stage: 'boot', status: 'start', note: 'kvm' },
    { stage: 'boot', status: 'retry', ms: 50, note: FALLBACK_NOTE },
    { stage: 'fds', status: 'start', rerun: true },
    { stage: 'fds', status: 'fail', ms: 2, rerun: true },
    { stage: 'boot', status: 'fail', ms: 50, note: FALLBACK_NOTE },
  ];
  for (const e of events) print(e);
  t.deepEqual(lines.map((l) => l.slice(0, 4) + stageOf(l)), ['  ✔ fds', '  ✘ fds', '  ✘ boot']);
});

test('stage lines (terminal): a pending line never wraps on 80 columns (it is redrawn one row up)', (t) => {
  const term = terminal();
  const print = progressPrinter(term.write, true);
  print({ stage: 'boot', status: 'start', note: 'x'.repeat(200) });
  const [line] = term.screen();
  t.is([...(line ?? '')].length, 78);
  t.true(line?.endsWith('…'));
  print({ stage: 'boot', status: 'ok', ms: 10 });
  t.deepEqual(term.screen(), ['  ✔ boot        10 ms']);
});

/**
 * Runs commands in a mount namespace of their own whose /run/tapwire is an
 * empty temp dir: launchPod there probes KVM afresh whatever this host's
 * cached verdict says, and its verdict never reaches the host's cache.
 */
const withFreshKvmVerdict = async (t: ExecutionContext) => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-kvm-verdict-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(KVM_VERDICT_DIR, { recursive: true });
  const ns = await privateMountNs(t);
  await execa('nsenter', ['-t', ns.pid, '-m', 'mount', '--bind', dir, KVM_VERDICT_DIR]);
  return {
    run: ns.run,
    /** What the run decided about KVM (undefined: it never tried KVM). */
    verdict: (): { hangs?: boolean } | undefined => (existsSync(join(dir, 'kvm-verdict.json')) ? (JSON.parse(readFileSync(join(dir, 'kvm-verdict.json'), 'utf8')) as { hangs?: boolean }) : undefined),
  };
};

/** The host's own verdict file, to show a test run left it alone. */
const hostVerdict = (): string => {
  const f = join(KVM_VERDICT_DIR, 'kvm-verdict.json');
  return existsSync(f) ? `${statSync(f).mtimeMs} ${readFileSync(f, 'utf8')}` : 'absent';
};

const demoPrereqs = (t: ExecutionContext): boolean =>
  requireRoot(t) && requireCommand(t, 'qemu-system-x86_64') && requireCommand(t, 'unshare') && requireCommand(t, 'nsenter');

test.serial('tapwire demo: one stage list, no failure mark, the KVM verdict probed afresh (falls back to TCG where KVM fails)', async (t) => {
  if (!demoPrereqs(t)) return;
  const fresh = await withFreshKvmVerdict(t);
  const before = hostVerdict();
  const r = await fresh.run(['node', BIN, 'demo'], { timeout: 300_000 });
  t.is(r.exitCode, 0, `${String(r.stdout)}\n${String(r.stderr)}`);
  const out = String(r.stdout);
  const all = `${out}\n${String(r.stderr)}`;
  t.false(all.includes('✘'), all);
  t.deepEqual(stageLines(all).map(stageOf), STAGE_NAMES, 'every stage once, in one list');
  t.false(/^STAGE\s+STATUS/m.test(all), 'no second, tabulated stage list');
  t.regex(out, /^demo ok: the guest reached 10\.200\.0\.1/m);
  const boot = stageLines(out).find((l) => stageOf(l) === 'boot') ?? '';
  const verdict = fresh.verdict();
  if (verdict?.hangs === true) {
    t.log('KVM opened but failed here: the run fell back to TCG');
    t.regex(boot, /^  ✔ boot .* tcg, QEMU \S+ running \(KVM unusable here: fell back to TCG\)$/);
  } else {
    t.log(`no fallback on this host (verdict ${JSON.stringify(verdict)}): ${boot}`);
  }
  t.is(hostVerdict(), before, "the host's KVM verdict cache was not touched");
  const pod = /^pod netns (tw-demo-pod-[0-9a-f]+):/m.exec(out)?.[1];
  t.truthy(pod, out);
  t.false(existsSync(`/run/netns/${pod ?? ''}`), 'the pod netns is gone');
});

test.serial('tapwire demo --json: one record per stage, all ok, whichever accelerator booted', async (t) => {
  if (!demoPrereqs(t)) return;
  const fresh = await withFreshKvmVerdict(t);
  const r = await fresh.run(['node', BIN, 'demo', '--json'], { timeout: 300_000 });
  t.is(r.exitCode, 0, String(r.stderr));
  const out = JSON.parse(String(r.stdout)) as {
    ok: boolean;
    pod: string;
    peer: string;
    accel: string;
    notes: string[];
    guest: { pings: { _tag: string }[]; queues: Record<string, number> };
    stages: { stage: string; status: string; note?: string }[];
    attachments: { queues: number; model: string }[];
  };
  t.true(out.ok);
  t.deepEqual(out.guest.pings.map((p) => p._tag), ['PingOk']);
  t.deepEqual(out.attachments.map((a) => [a.model, a.queues]), [['tcfilter', 2]]);
  t.deepEqual(out.stages.map((s) => s.stage), STAGE_NAMES);
  t.true(out.stages.every((s) => s.status === 'ok'), JSON.stringify(out.stages));
  // The live list on stderr says the same: each stage once, nothing failed.
  t.deepEqual(stageLines(String(r.stderr)).map(stageOf), STAGE_NAMES);
  t.false(String(r.stderr).includes('✘'), String(r.stderr));
  if (fresh.verdict()?.hangs === true) {
    t.is(out.accel, 'tcg');
    t.regex(out.stages.find((s) => s.stage === 'boot')?.note ?? '', /\(KVM unusable here: fell back to TCG\)$/);
    t.true(out.notes.some((n) => n.endsWith('fell back to TCG')), 'the why is in the notes');
  }
  t.false(existsSync(`/run/netns/${out.pod}`));
  t.false(existsSync(`/run/netns/${out.peer}`));
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
