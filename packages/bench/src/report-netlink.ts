// The netlink executor against its targets (issue 13) and against the
// per-operation netlink baseline (pyroute2), from the same scale runs.
import type { BenchResults } from './results.js';
import { NETLINK_ATTACH_MS_1, NETLINK_CYCLE_VS_FLOOR_1, NETLINK_CYCLE_VS_FLOOR_64 } from './targets.js';

/** A figure the run does not have at all: it was kept before (a2)/(d) existed (results.ts). */
export const NOT_MEASURED = 'not measured';

// undefined: not measured; null (a NaN through JSON) or NaN: measured, no figure.
const ms = (n: number | null | undefined): string => (n === undefined ? NOT_MEASURED : n !== null && Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const x = (r: number | null | undefined): string => (r === undefined ? NOT_MEASURED : r === null ? 'n/a' : `${r.toFixed(2)}x`);
const verdict = (met: boolean): string => (met ? 'met' : 'not met');

const targetsLine = (r: BenchResults): string => {
  const n = r.targets.netlink;
  if (n === undefined) return `Targets: ${NOT_MEASURED} (this run has no (a2) figures).`;
  return (
    `Targets: 1-link attach ${ms(n.attachMsAt1)} ms (<= ${NETLINK_ATTACH_MS_1} ms: ${verdict(n.attachMet)}); ` +
    `cycle vs floor at 1 link ${x(n.cycleVsFloorAt1)} (<= ${NETLINK_CYCLE_VS_FLOOR_1}x: ${verdict(n.cycleAt1Met)}); ` +
    `at 64 links ${x(n.cycleVsFloorAt64)} (<= ${NETLINK_CYCLE_VS_FLOOR_64}x: ${verdict(n.cycleAt64Met)}); ` +
    `process spawns per run ${n.spawns.join(', ')} (zero: ${verdict(n.zeroSpawns)}).`
  );
};

export const netlinkSection = (r: BenchResults): string => {
  const rows = r.scale.map((e) => {
    const { netlink, pyroute2 } = e.phasesMs;
    const spawns = e.spawns.netlink;
    return `| ${e.links} | ${ms(netlink?.attach)} | ${ms(netlink?.detach)} | ${ms(e.netlinkMs)} | ${ms(pyroute2?.attach)} | ${ms(pyroute2?.detach)} | ${ms(e.pyroute2Ms)} | ${ms(e.phasesMs.batchFloor.attach)} | ${ms(e.batchFloorMs)} | ${x(e.ratios.netlinkVsFloor)} | ${x(e.ratios.netlinkVsPyroute2)} | ${spawns === undefined ? NOT_MEASURED : spawns.total} |`;
  });
  return [
    '## Netlink executor',
    '',
    '(a2) is (a) with `executor: \'netlink\'`: the scan reads rtnetlink dumps, attach and detach send their requests pipelined over one socket opened inside the netns, taps are made with the tun ioctls. ' +
      '(d) does the same operations with pyroute2 from Python, one request and one ack at a time; it times itself after Python\'s start-up and entering the netns, so its figures are the library\'s alone.',
    '',
    '| links | (a2) attach ms | (a2) detach ms | (a2) cycle ms | (d) attach ms | (d) detach ms | (d) cycle ms | (c) attach ms | (c) cycle ms | a2/c | a2/d | (a2) spawns |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    targetsLine(r),
  ].join('\n');
};
