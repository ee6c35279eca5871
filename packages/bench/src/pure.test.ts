// The bench's pure parts: flags, statistics, targets, the by-hand QEMU
// command line and the chart.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { handArgv, handNetdev } from './boot-argv.js';
import { parseFlags } from './flags.js';
import { renderMarkdown } from './report.js';
import type { BenchResults, KeptScaleEntry } from './results.js';
import { METHODS, orderOf, type ScaleEntry } from './scale.js';
import { median, ratio } from './stats.js';
import { renderScaleSvg } from './svg.js';
import { targetsOf } from './targets.js';

test('flags: defaults, pnpm\'s leading --, and bad input naming the flag', (t) => {
  const d = parseFlags([]);
  t.true(E.isRight(d) && d.right.sizes.join(',') === '1,8,64,256' && d.right.runs === 6 && d.right.bootRuns === 3 && d.right.boot && d.right.cni && !d.right.json && !d.right.write);
  const f = parseFlags(['--', '--sizes', '1,8', '--runs', '2', '--no-boot', '--no-cni', '--json', '--write']);
  t.deepEqual(E.isRight(f) ? f.right : undefined, { sizes: [1, 8], runs: 2, bootRuns: 2, boot: false, cni: false, json: true, write: true, help: false });
  for (const [argv, flag] of [
    [['--sizes', '0'], '--sizes'],
    [['--sizes', '1,1'], '--sizes'],
    [['--sizes', '8,x'], '--sizes'],
    [['--sizes', '5000'], '--sizes'],
    [['--runs', '0'], '--runs'],
    [['--runs', '-1'], 'command line'],
    [['--nope'], 'command line'],
  ] as const) {
    const r = parseFlags(argv);
    t.true(E.isLeft(r) && r.left.flag === flag, `${argv.join(' ')} -> ${JSON.stringify(r)}`);
  }
});

test('median and ratio', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.true(Number.isNaN(median([])));
  t.is(ratio(13, 10), 1.3);
  t.is(ratio(1, 0), null);
});

test('by-hand QEMU argv: tap opened by name, files moved, everything else as the launcher had it', (t) => {
  t.is(handNetdev('tap,id=net0,fd=3,vhost=off', 'tw2', 1), 'tap,id=net0,ifname=tw2,script=no,downscript=no,vhost=off');
  t.is(handNetdev('tap,id=net0,fds=3:4,vhost=off', 'tw2', 2), 'tap,id=net0,ifname=tw2,script=no,downscript=no,vhost=off,queues=2');
  t.throws(() => handNetdev('vhost-user,id=net0,chardev=c', 'tw2', 1));
  const dry = ['qemu-system-x86_64', '-kernel', '/k', '-chardev', 'socket,id=qmp,path=/tmp/tapwire-vm-X/qmp.sock,server=on,wait=off', '-chardev', 'stdio,id=serial0,signal=off,logfile=/tmp/tapwire-vm-X/serial.log', '-netdev', 'tap,id=net0,fd=3,vhost=off', '-device', 'virtio-net-pci,netdev=net0'];
  t.deepEqual(handArgv(dry, 'tw2', 1, '/w'), [
    'qemu-system-x86_64', '-kernel', '/k', '-chardev', 'socket,id=qmp,path=/w/qmp.sock,server=on,wait=off', '-chardev', 'stdio,id=serial0,signal=off,logfile=/w/serial.log', '-netdev', 'tap,id=net0,ifname=tw2,script=no,downscript=no,vhost=off', '-device', 'virtio-net-pci,netdev=net0',
  ]);
});

const entry = (links: number, attachA: number, attachC: number, spawnsAttach: number): ScaleEntry => {
  const figs = (attach: number) => ({ scan: 1, attach, fds: 0, detach: 1, total: attach + 2 });
  return {
    links,
    queues: 2,
    runs: 1,
    inProcessMs: attachA + 2,
    netlinkMs: attachA / 4 + 2,
    perCommandMs: 100,
    batchFloorMs: attachC + 2,
    pyroute2Ms: 50,
    phasesMs: { inProcess: figs(attachA), netlink: figs(attachA / 4), perCommand: figs(98), batchFloor: figs(attachC), pyroute2: figs(48) },
    ratios: {
      inProcessVsFloor: ratio(attachA + 2, attachC + 2),
      perCommandVsFloor: null,
      perCommandVsInProcess: null,
      attachInProcessVsFloor: ratio(attachA, attachC),
      netlinkVsFloor: ratio(attachA / 4 + 2, attachC + 2),
      attachNetlinkVsFloor: ratio(attachA / 4, attachC),
      netlinkVsPyroute2: ratio(attachA / 4 + 2, 50),
    },
    spawns: { inProcess: { scan: 1, attach: spawnsAttach, fds: 0, detach: 4, total: 5 + spawnsAttach }, netlink: { scan: 0, attach: 0, fds: 0, detach: 0, total: 0 }, perCommand: figs(8), batchFloor: figs(2), pyroute2: { scan: 0, attach: 0, fds: 0, detach: 0, total: 0 } },
    spawnsStable: true,
    samplesMs: {
      inProcess: { total: [attachA + 2], attach: [attachA] },
      netlink: { total: [attachA / 4 + 2], attach: [attachA / 4] },
      perCommand: { total: [100], attach: [98] },
      batchFloor: { total: [attachC + 2], attach: [attachC] },
      pyroute2: { total: [50], attach: [48] },
    },
    fds: links * 2,
  };
};

test("targets: the floor ratio is judged on the default executor's attach phase at 64 links; spawns must not grow", (t) => {
  // entry(): (a2)'s attach is attachA / 4.
  const met = targetsOf([entry(1, 10, 10, 4), entry(64, 480, 100, 4)]);
  t.like(met.withinFloor, { links: 64, attachNetlinkVsFloor: 1.2, attachInProcessVsFloor: 4.8, met: true });
  t.true(met.spawnsConstant.met);
  const missed = targetsOf([entry(1, 10, 10, 4), entry(64, 560, 100, 130)]);
  t.like(missed.withinFloor, { attachNetlinkVsFloor: 1.4, met: false });
  t.false(missed.spawnsConstant.met);
  t.deepEqual(missed.spawnsConstant.growing, ['attach']);
  t.deepEqual(targetsOf([entry(1, 10, 10, 4)]).withinFloor, { skipped: 'no 64-link pod in --sizes' });
});

test('netlink targets: 1-link attach within 5 ms, the cycle within 0.5x / 0.7x of the floor at 1 / 64 links, no spawns', (t) => {
  // (a2)'s attach is attachA / 4 in entry(): 2.5 ms at 1 link; cycle (2.5 + 2) / 12 and (30 + 2) / 102.
  const n = targetsOf([entry(1, 10, 10, 4), entry(64, 120, 100, 4)]).netlink;
  t.like(n, { attachMsAt1: 2.5, attachMet: true, cycleAt1Met: true, cycleAt64Met: true, spawns: [0, 0], zeroSpawns: true });
  const slow = targetsOf([entry(1, 40, 10, 4)]).netlink;
  t.like(slow, { attachMsAt1: 10, attachMet: false, cycleAt1Met: false, cycleVsFloorAt64: null, cycleAt64Met: false });
});

test('chart: one SVG document with both panels and a legend entry per method', (t) => {
  const svg = renderScaleSvg([entry(1, 10, 10, 4), entry(8, 40, 20, 18), entry(64, 300, 100, 130)], 'sub <&>', 2);
  t.true(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  t.true(svg.trim().endsWith('</svg>'));
  // The spawns panel is logarithmic: (a2) and (d), with no spawns, have no line there.
  t.is(svg.match(/<polyline /g)?.length, 2 * METHODS.length - 2);
  t.true(svg.includes('sub &lt;&amp;&gt;'));
  t.false(/NaN|Infinity|undefined/.test(svg));
});

/** An entry as a run kept before (a2) and (d) existed has it: none of their figures. */
const older = (e: ScaleEntry): KeptScaleEntry => {
  const { netlinkMs: _n, pyroute2Ms: _p, phasesMs, spawns, samplesMs, ratios, ...rest } = e;
  const { netlinkVsFloor: _r1, attachNetlinkVsFloor: _r2, netlinkVsPyroute2: _r3, ...oldRatios } = ratios;
  const early = <T>(byMethod: Readonly<Record<string, T>>) => ({ inProcess: byMethod['inProcess'] as T, perCommand: byMethod['perCommand'] as T, batchFloor: byMethod['batchFloor'] as T });
  return { ...rest, phasesMs: early(phasesMs), spawns: early(spawns), samplesMs: early(samplesMs), ratios: oldRatios };
};

test('a run kept before (a2) and (d) existed still renders: their figures say "not measured", the chart has no lines for them', (t) => {
  const scale = [older(entry(1, 10, 10, 4)), older(entry(64, 120, 100, 4))];
  const { netlink: _, ...targets } = targetsOf([entry(1, 10, 10, 4), entry(64, 120, 100, 4)]);
  const r: BenchResults = {
    env: { date: '2026-01-01T00:00:00Z', kernel: 'k', node: 'v20', cpuCount: 2, cpuModel: 'cpu', iproute2: 'ip', qemu: 'q', commit: 'c', loadAvgAtStart: 0, loadAvgAtEnd: 0 },
    options: { sizes: [1, 64], runs: 1, bootRuns: 0, queues: 2 },
    scale,
    targets,
    cli: { nodeStartMs: 40, queues: 2, bundleBytes: null, bundleNote: null, bySize: [], peakRssKb: null },
    boot: { skipped: '--no-boot' },
    cni: { skipped: '--no-cni' },
  };
  const md = renderMarkdown(r);
  t.false(/undefined|NaN/.test(md), md);
  t.regex(md, /\| 64 \| not measured \| not measured \| not measured \| not measured \| not measured \| not measured \| 100\.0 \| 102\.0 \| not measured \| not measured \| not measured \|/);
  t.regex(md, /Targets: not measured/);
  t.regex(md, /\(a2\)[^\n]*; \(d\)[^\n]*: not measured in this run\./);
  // The per-phase table has rows for (a), (b), (c) only.
  t.is(md.match(/^\| 1 \| \(/gm)?.length, 3);
  const svg = renderScaleSvg(scale, 'old', 2);
  t.false(/NaN|Infinity|undefined/.test(svg));
  t.is(svg.match(/<polyline /g)?.length, 2 * 3);
  t.false(svg.includes('netlink executor') || svg.includes('pyroute2'), 'no legend entry for a method not measured');
});

test('scale orders: every method in every run, and no method always after the same one', (t) => {
  const orders = Array.from({ length: 2 * METHODS.length }, (_, r) => orderOf(r));
  for (const o of orders) t.deepEqual([...o].sort(), [...METHODS].sort());
  for (const m of METHODS) {
    const before = new Set(orders.map((o) => o[o.indexOf(m) - 1]).filter((x) => x !== undefined));
    t.true(before.size > 1, `${m} follows ${[...before].join()}`);
  }
});
