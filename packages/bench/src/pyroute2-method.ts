// (d) the per-operation netlink baseline: the same cycle in Python with
// pyroute2 (Debian's python3-pyroute2), one ack per request. The script times
// its own phases after Python's start-up and the netns entry, so the figures
// are the library's, as an in-process Go or Python runtime would pay them.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { decodeLinks, describeEndpointsError } from '@tapwire/endpoints';
import { DETACH_GROUP, defaultTapName, encodeRecord } from '@tapwire/netmodel';
import { PHASES, type MethodRun, type PhaseFigures } from './clock.js';
import type { Pod } from './pod.js';
import { handTargets } from './hand-commands.js';

const SCRIPT = fileURLToPath(new URL('../scripts/pyroute2-cycle.py', import.meta.url));
/** Debian's interpreter: python3-pyroute2 lives in its dist-packages. */
export const PYTHON = '/usr/bin/python3';

/** Whether python3-pyroute2 is installed; the bench leaves the column out otherwise. */
export const pyroute2Available = async (): Promise<boolean> => (await execa(PYTHON, ['-c', 'import pyroute2'], { reject: false })).exitCode === 0;

export const viaPyroute2 = async (pod: Pod, queues: number): Promise<MethodRun> => {
  // The link list comes from an untimed ip call: the script's own scan is what is timed.
  const shown = await execa('ip', ['-n', pod.name, '-j', '-d', 'addr', 'show']);
  const links = decodeLinks(shown.stdout);
  if (E.isLeft(links)) throw new Error(`pyroute2 method: ${describeEndpointsError(links.left)}`);
  const job = {
    netns: pod.name,
    queues,
    group: DETACH_GROUP,
    links: handTargets(links.right).map((l) => ({
      name: l.name,
      tap: defaultTapName(l.ifindex),
      mtu: l.mtu,
      alias: encodeRecord({ model: 'tcfilter', ifindex: l.ifindex, queues, mac: l.mac ?? '', addresses: [], routes: [] }),
    })),
  };
  const r = await execa(PYTHON, [SCRIPT], { input: JSON.stringify(job), reject: false });
  if (r.exitCode !== 0) throw new Error(`pyroute2 cycle failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const out = JSON.parse(r.stdout) as { ms: Record<string, number> };
  const ms = Object.fromEntries(PHASES.map((p) => [p, out.ms[p] ?? Number.NaN])) as Record<(typeof PHASES)[number], number>;
  const figures: PhaseFigures = { ...ms, total: PHASES.reduce((a, p) => a + ms[p], 0) };
  // In its own process: none of tapwire's spawns; the script makes none itself.
  const zero: PhaseFigures = { scan: 0, attach: 0, fds: 0, detach: 0, total: 0 };
  return { ms: figures, spawns: zero };
};
