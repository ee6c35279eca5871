// The scale bench for real at 1 and 8 links, once: the shape of what
// `pnpm bench --json` reports under `scale`, spawn counts of the baselines
// (known by construction), and the target that (a)'s spawns per phase do not
// grow with the number of links.
import test from 'ava';
import { execa } from 'execa';
import { requireRoot } from '@tapwire/testkit';
import { PHASES } from './clock.js';
import { podNetnsMade } from './pod.js';
import { METHODS, runScale, type ScaleEntry } from './scale.js';

const netnsNames = async (): Promise<string[]> => String((await execa('ip', ['netns', 'list'])).stdout).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');

test.serial('scale bench at 1 and 8 links: JSON shape, spawn counts, and (a) spawns constant in links', async (t) => {
  if (!requireRoot(t)) return;
  const scale: ScaleEntry[] = JSON.parse(JSON.stringify(await runScale({ sizes: [1, 8], runs: 1, warmUp: false })));
  // Only the netns this run made: a bench in another process (outputs.test.ts
  // runs `pnpm bench` beside this file) has twb netns of its own meanwhile.
  const made = podNetnsMade();
  t.is(made.length, 4, `a pod and its peer per size: ${made.join(', ')}`);
  const leftover = (await netnsNames()).filter((n) => made.includes(n));
  t.deepEqual(leftover, [], 'the bench removed every netns it made');

  t.deepEqual(scale.map((e) => e.links), [1, 8]);
  for (const e of scale) {
    t.deepEqual(Object.keys(e).sort(), ['batchFloorMs', 'fds', 'inProcessMs', 'links', 'netlinkMs', 'perCommandMs', 'phasesMs', 'pyroute2Ms', 'queues', 'ratios', 'runs', 'samplesMs', 'spawns', 'spawnsStable'].sort());
    t.is(e.runs, 1);
    t.is(e.queues, 2);
    t.is(e.fds, e.links * 2);
    for (const k of ['inProcessMs', 'netlinkMs', 'perCommandMs', 'batchFloorMs', 'pyroute2Ms'] as const) t.true(Number.isFinite(e[k]) && e[k] > 0, `${k} ${e[k]}`);
    t.deepEqual(Object.keys(e.ratios).sort(), ['attachInProcessVsFloor', 'attachNetlinkVsFloor', 'inProcessVsFloor', 'netlinkVsFloor', 'netlinkVsPyroute2', 'perCommandVsFloor', 'perCommandVsInProcess']);
    for (const r of Object.values(e.ratios)) t.true(typeof r === 'number' && r > 0);
    for (const m of METHODS) {
      t.deepEqual(Object.keys(e.phasesMs[m]).sort(), [...PHASES, 'total'].sort());
      t.deepEqual(Object.keys(e.spawns[m]).sort(), [...PHASES, 'total'].sort());
      t.is(e.spawns[m].total, PHASES.reduce((acc, p) => acc + e.spawns[m][p], 0));
      t.is(e.samplesMs[m].total.length, e.runs);
      t.is(e.samplesMs[m].attach.length, e.runs);
    }
    t.true(e.spawnsStable);
    // (b): 1 scan + 9 per link to attach; detach 1 qdisc del per link, then 1 link del
    // (one tap) or 1 group move per tap + 1 group del; (c): 1 + 3 + 2 whatever the size.
    const detach = e.links === 1 ? 2 : 2 * e.links + 1;
    t.deepEqual(e.spawns.perCommand, { scan: 1, attach: 9 * e.links, fds: 0, detach, total: 1 + 9 * e.links + detach });
    t.deepEqual(e.spawns.batchFloor, { scan: 1, attach: 3, fds: 0, detach: 2, total: 6 });
    t.is(e.spawns.inProcess.fds, 0, 'fds are opened in-process');
    t.is(e.spawns.netlink.total, 0, 'the netlink executor spawns nothing: scan, attach, fds, detach');
  }

  const [one, eight] = scale;
  t.deepEqual(eight?.spawns.inProcess, one?.spawns.inProcess, "(a)'s process spawns per phase are the same at 1 and 8 links");
});
