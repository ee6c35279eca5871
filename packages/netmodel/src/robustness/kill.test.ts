// kill -9 of a process attaching and detaching in a loop, at random points,
// then detach from this process: the netns must be exactly as before.
// Rounds cycle through three ways to die: kill only the node process at a
// random time (its running ip/tc child then finishes its whole batch: stdin
// was written in full); kill its process group at a random time (ip/tc die
// mid-batch too, as with a cgroup kill or Ctrl-C); and kill the group 0-2 ms
// after an ip/tc batch that changes the netns started, which aims at the
// window that can leave a device created but never recorded (half-made.ts).
// TAPWIRE_KILL_SEED=<n> replays a run's kill points.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { requireRoot } from '@tapwire/testkit';
import { check, detach } from '../detach.js';
import { makeEndpoint, netnsFixture, right, stateOf } from '../testing.js';

const ROUNDS = 36;
const MODES = ['node', 'group', 'in-batch'] as const;
/** ~2 attach/detach cycles of the child. */
const MAX_DELAY_MS = 250;
const LOOP = fileURLToPath(new URL('./attach-loop.js', import.meta.url));

/** mulberry32: a small seeded PRNG, so a failing run's kill points can be replayed. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Proc {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly argv: readonly string[];
}

/** The processes of a process group, from /proc. */
const group = (pgid: number): Proc[] =>
  readdirSync('/proc').flatMap((pid): Proc[] => {
    if (!/^[0-9]+$/.test(pid)) return [];
    try {
      // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state = '', , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) !== pgid) return [];
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      return [{ pid: Number(pid), comm, state, argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') }];
    } catch {
      return [];
    }
  });

/**
 * Whether a process of the group still runs. Not kill(-pgid, 0): orphaned
 * ip/tc children are reaped by PID 1, which here does so only every second
 * or two, and a zombie still counts for kill; a zombie has done its work.
 */
const alive = (pgid: number): boolean => group(pgid).some((p) => p.state !== 'Z' && p.state !== 'X');

/** The ip or tc -batch processes that change the netns (not -j reads) running in the group. */
const writers = (pgid: number): number[] =>
  group(pgid)
    .filter((p) => (p.comm === 'ip' || p.comm === 'tc') && p.argv.includes('-batch') && !p.argv.includes('-j') && p.state !== 'Z')
    .map((p) => p.pid);

/** Resolves when the child printed "ready"; rejects when it exits first. */
const ready = (child: ChildProcess, output: { text: string }): Promise<void> =>
  new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      output.text += d.toString();
      if (output.text.includes('ready\n')) resolve();
    });
    child.stderr?.on('data', (d: Buffer) => (output.text += d.toString()));
    child.once('exit', (code, signal) => reject(new Error(`attach-loop exited (${code ?? signal}) before ready: ${output.text}`)));
  });

test('kill -9 at random points of an attach/detach loop, then detach: the netns is as before', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const before = await stateOf(ns);
  const seed = Number(process.env['TAPWIRE_KILL_SEED'] ?? Date.now() % 2 ** 31);
  const random = prng(seed);
  t.log(`seed ${seed} (TAPWIRE_KILL_SEED=${seed} replays it)`);
  const children: ChildProcess[] = [];
  t.teardown(() => {
    for (const c of children) if (c.pid !== undefined && alive(c.pid)) process.kill(-c.pid, 'SIGKILL');
    // (makeNetns's teardown, registered earlier, runs after this one.)
  });
  const found: string[] = [];
  const start = () => {
    // detached: its own process group, so the group kill reaches only it and its ip/tc.
    const child = spawn(process.execPath, [LOOP, ns.spec, 'ep0'], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    const output = { text: '' };
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    return { child, output, exited, isReady: ready(child, output) };
  };
  let next = start();
  for (let round = 0; round < ROUNDS; round++) {
    const { child, output, exited, isReady } = next;
    const mode = MODES[round % MODES.length] ?? 'group';
    const delay = Math.floor(random() * (mode === 'in-batch' ? 3 : MAX_DELAY_MS));
    // in-batch: which write batch to hit (a cycle runs 5-6: attach ip, tc; detach tc, ip; ...).
    const skip = Math.floor(random() * 6);
    await isReady;
    child.stdin?.write('go\n');
    const pid = child.pid as number;
    if (mode === 'in-batch') {
      // Polling /proc may miss a short batch; the 2 s bound then kills wherever the loop is.
      const seen = new Set<number>();
      const t0 = performance.now();
      for (;;) {
        const now = writers(pid);
        now.forEach((w) => seen.add(w));
        if ((now.length > 0 && seen.size > skip) || performance.now() - t0 > 2000) break;
        await new Promise((r) => setImmediate(r));
      }
      if (delay > 0) await sleep(delay);
    } else {
      await sleep(delay);
    }
    process.kill(mode === 'node' ? pid : -pid, 'SIGKILL');
    t.is(await exited, 'SIGKILL', `round ${round}: the loop was running, not failed: ${output.text}`);
    // When only node died, its ip/tc child finishes first.
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
    t.false(alive(pid), `round ${round}: process group ${pid} gone`);
    // The next one sets up (reads only) while this round is checked.
    if (round + 1 < ROUNDS) next = start();
    const cycles = (output.text.match(/^cycle /gm) ?? []).length;
    const d = right(t, await detach(ns, 'ep0')());
    const what = d.detached.length === 0 ? 'nothing attached' : d.detached.map((a) => `${a.tapName} ${a.model}${d.halfMade.includes(a.tapName) ? ' (half-made)' : ''}`).join(', ');
    found.push(`round ${round} (${mode === 'in-batch' ? `write batch ${skip + 1} + ${delay} ms` : `${mode}, ${delay} ms`}, after ${cycles} cycles): ${what}`);
    t.deepEqual(right(t, await check(ns)()), [], `round ${round}: no attachment left`);
    t.deepEqual(await stateOf(ns), before, `round ${round}: killed (${mode}) ${delay} ms in; detach found ${what}`);
  }
  t.log(found.join('\n'));
});
