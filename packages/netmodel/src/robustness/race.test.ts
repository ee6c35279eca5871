// Two processes attach the same link at once. The netns lock serialises them:
// the second reads what the first finished, so it reports the attachment as
// existing (same model) or AlreadyAttached (another model) - never what a
// half-done attach looked like ("not attachable: no addresses"). A holder that
// keeps the lock past the timeout makes NetnsBusy, naming it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { lockNetns } from '@tapwire/sys';
import { requireRoot } from '@tapwire/testkit';
import { check, detach } from '../detach.js';
import type { Model } from '../model.js';
import { makeEndpoint, netnsFixture, right, stateOf } from '../testing.js';

const ONCE = fileURLToPath(new URL('./attach-once.js', import.meta.url));

interface Outcome {
  readonly ok: boolean;
  readonly existing?: boolean;
  readonly tag?: string;
  readonly message?: string;
}

/** Starts an attach-once child; resolves `ready` when it is set up and `result` with its JSON line. */
const child = (t: ExecutionContext, spec: string, model: Model, dir: string, timeoutMs: number) => {
  const p = spawn(process.execPath, [ONCE, spec, 'ep0', model, dir, String(timeoutMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => void p.kill('SIGKILL'));
  const lines = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const ready = lines.next();
  return { go: () => p.stdin.write('go\n'), ready, result: ready.then(async () => JSON.parse(String((await lines.next()).value)) as Outcome) };
};

const lockDir = (t: ExecutionContext): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-race-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'locks');
};

const ROUNDS: readonly (readonly [Model, Model])[] = [
  ['macvtap', 'macvtap'],
  ['macvtap', 'tcfilter'],
  ['tcfilter', 'macvtap'],
  ['tcfilter', 'tcfilter'],
  ['macvtap', 'tcfilter'],
  ['macvtap', 'macvtap'],
];

test('two processes attaching one link: one makes it, the other says existing or already attached; the netns stays right', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const before = await stateOf(ns);
  const dir = lockDir(t);
  for (const [i, [m1, m2]] of ROUNDS.entries()) {
    const a = child(t, ns.spec, m1, dir, 15_000);
    const b = child(t, ns.spec, m2, dir, 15_000);
    await Promise.all([a.ready, b.ready]);
    a.go();
    b.go();
    const outcomes = await Promise.all([a.result, b.result]);
    const made = outcomes.filter((o) => o.ok && o.existing === false);
    t.is(made.length, 1, `round ${i}: ${JSON.stringify(outcomes)}`);
    const loser = outcomes.find((o) => o !== made[0]);
    if (m1 === m2) t.like(loser, { ok: true, existing: true }, `round ${i}`);
    else {
      t.like(loser, { ok: false, tag: 'AlreadyAttached' }, `round ${i}`);
      t.regex(loser?.message ?? '', /link "ep0" in netns ".*" is already attached by tapwire through tw\d+ \(model (tcfilter|macvtap), 1 queue\(s\)\), not as asked \(model (tcfilter|macvtap)\); detach it first/);
    }
    t.deepEqual(right(t, await check(ns)()).flatMap((c) => c.findings), [], `round ${i}`);
    right(t, await detach(ns, 'ep0', { lock: { dir } })());
    t.deepEqual(await stateOf(ns), before, `round ${i}`);
  }
  t.deepEqual(readdirSync(dir), [], 'no lock file left');
});

test('a lock held past the timeout is NetnsBusy naming its holder; nothing changed', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoint(ns.spec, 'veth');
  const before = await stateOf(ns);
  const dir = lockDir(t);
  const held = await lockNetns(ns, 'holding for the test', { dir })();
  if (E.isLeft(held)) return t.fail(JSON.stringify(held.left));
  t.teardown(held.right.release);
  const c = child(t, ns.spec, 'macvtap', dir, 300);
  await c.ready;
  c.go();
  const r = await c.result;
  t.like(r, { ok: false, tag: 'Sys', cause: 'NetnsBusy' });
  t.regex(r.message ?? '', new RegExp(`is busy: another tapwire process \\(pid ${process.pid}: holding for the test\\) is attaching or detaching there; waited \\d+ ms`));
  t.deepEqual(await stateOf(ns), before);
});
