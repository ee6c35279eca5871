// Soak: many attach/detach cycles in this process, alternating tcfilter and
// macvtap, must leak nothing: no fds, no links/qdiscs/filters (netnsState as
// before), and no memory beyond noise.
//
// Why the 1000 cycles run as 100 rounds of attachAll/detachAll over 10
// veths: one endpoint's cycle costs 8 spawns (attach 4, detach 4; ~7-11 ms
// each through execa + nsenter) plus the kernel's unregister of the device
// (~25 ms), ~75 ms in all on this 2-core machine, so 1000 single-endpoint
// cycles would take ~75 s. attachAll/detachAll share the 8 spawns across a
// round and detachAll deletes the round's devices in one request (one
// unregister): ~10 ms per endpoint cycle, ~10 s for the 1000. The
// single-endpoint path (attach and detach of one link) gets its own soak of
// 400 cycles (~30 s) with its rate logged.
//
// Memory: ava's nodeArguments are global, so --expose-gc is switched on at run
// time (v8.setFlagsFromString + a fresh context's gc) to compare heapUsed after
// forced collections; rss, which the allocator returns lazily, only gets a
// generous bound.
import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test, { type ExecutionContext } from 'ava';
import type { Endpoint } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
import { requireRoot } from '@tapwire/testkit';
import { attachAll } from '../attach-all.js';
import { attach } from '../attach.js';
import { check, detach, detachAll } from '../detach.js';
import type { Model } from '../model.js';
import { endpointsOf, makeEndpoints, netnsFixture, right, stateOf } from '../testing.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MODELS_ALTERNATING: readonly Model[] = ['tcfilter', 'macvtap'];
/** heapUsed may grow this much over a soak (caches warmed in the first rounds are excluded). */
const HEAP_BOUND = 4 * 1024 * 1024;
/** rss: generous, since freed pages go back to the OS whenever the allocator likes. */
const RSS_BOUND = 48 * 1024 * 1024;

const openFds = (): number => readdirSync('/proc/self/fd').length;
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

interface Usage {
  readonly fds: number;
  readonly heap: number;
  readonly rss: number;
}
const usage = (): Usage => ({ fds: openFds(), heap: heap(), rss: process.memoryUsage().rss });

/** Runs `rounds` rounds; measures after `warmup` of them so lazily built caches do not count as leaks. */
const soak = async (t: ExecutionContext, ns: NetnsHandle, rounds: number, warmup: number, round: (r: number) => Promise<void>): Promise<{ ms: number; from: Usage; to: Usage }> => {
  for (let r = 0; r < warmup; r++) await round(r);
  const from = usage();
  const t0 = performance.now();
  for (let r = warmup; r < rounds; r++) {
    await round(r);
    // A leak of netns state shows at once, not only at the end.
    if (r % 25 === 0) t.deepEqual(right(t, await check(ns)()), [], `round ${r}: nothing attached between rounds`);
  }
  const ms = performance.now() - t0;
  return { ms, from, to: usage() };
};

const verdict = (t: ExecutionContext, from: Usage, to: Usage): void => {
  t.log(`fds ${from.fds} -> ${to.fds}; heapUsed after gc ${mb(from.heap)} -> ${mb(to.heap)}; rss ${mb(from.rss)} -> ${mb(to.rss)}`);
  t.is(to.fds, from.fds, 'no fd leaked');
  t.true(to.heap - from.heap < HEAP_BOUND, `heapUsed grew ${mb(to.heap - from.heap)} (bound ${mb(HEAP_BOUND)})`);
  t.true(to.rss - from.rss < RSS_BOUND, `rss grew ${mb(to.rss - from.rss)} (bound ${mb(RSS_BOUND)})`);
};

test.serial('soak: 1000 endpoint attach/detach cycles (100 rounds of attachAll/detachAll over 10 veths, models alternating) leak no fds, links, qdiscs, filters or memory', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  const WIDTH = 10;
  const names = await makeEndpoints(ns.spec, ['veth'], WIDTH);
  const before = await stateOf(ns);
  const eps: Endpoint[] = (await endpointsOf(ns)).filter((e) => names.includes(e.link.name));
  t.is(eps.length, WIDTH);
  const WARMUP = 6;
  const ROUNDS = 100 + WARMUP;
  const { ms, from, to } = await soak(t, ns, ROUNDS, WARMUP, async (r) => {
    const model = MODELS_ALTERNATING[r % 2] ?? 'tcfilter';
    const as = right(t, await attachAll(ns, eps, model)());
    if (as.length !== WIDTH || as.some((a) => a.existing === true)) t.fail(`round ${r}: ${JSON.stringify(as)}`);
    const d = right(t, await detachAll(ns)());
    if (d.detached.length !== WIDTH) t.fail(`round ${r}: detached ${d.detached.length}`);
  });
  const cycles = (ROUNDS - WARMUP) * WIDTH;
  t.log(`${cycles} endpoint cycles in ${(ms / 1000).toFixed(1)} s: ${(ms / cycles).toFixed(1)} ms per endpoint cycle, ${(ms / (ROUNDS - WARMUP)).toFixed(0)} ms per round of ${WIDTH}`);
  verdict(t, from, to);
  t.deepEqual(await stateOf(ns), before, 'the netns is as before');
});

test.serial('soak: 400 single-endpoint attach/detach cycles on one veth (models alternating) leak nothing; rate logged', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await netnsFixture(t);
  await makeEndpoints(ns.spec, ['veth'], 1);
  const before = await stateOf(ns);
  const ep = (await endpointsOf(ns)).find((e) => e.link.name === 'ep0');
  if (ep === undefined) return void t.fail('no ep0');
  const WARMUP = 6;
  const CYCLES = 400;
  const { ms, from, to } = await soak(t, ns, CYCLES + WARMUP, WARMUP, async (r) => {
    const model = MODELS_ALTERNATING[r % 2] ?? 'tcfilter';
    right(t, await attach(ns, ep, model)());
    const d = right(t, await detach(ns, 'ep0')());
    if (d.detached.length !== 1) t.fail(`cycle ${r}: detached ${d.detached.length}`);
  });
  t.log(`${CYCLES} cycles in ${(ms / 1000).toFixed(1)} s: ${(ms / CYCLES).toFixed(1)} ms per cycle (${(CYCLES / (ms / 1000)).toFixed(1)} cycles/s)`);
  verdict(t, from, to);
  t.deepEqual(await stateOf(ns), before, 'the netns is as before');
});
