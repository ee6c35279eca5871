// The baselines: what people script by hand. (b) one ip/tc process per
// operation; (c) the floor, the same operations in one `ip -batch` and one
// `tc -batch` per phase (as netmodel's merged plan). Both scan with one `ip -j -d addr show`.
import * as E from 'fp-ts/lib/Either.js';
import { decodeLinks, type Link, describeEndpointsError } from '@tapwire/endpoints';
import { defaultTapName } from '@tapwire/netmodel';
import { encodeBatchLine } from '@tapwire/sys';
import { phaseClock, type MethodRun } from './clock.js';
import { openAndCloseQueues } from './fds.js';
import { attachCommands, detachCommands, handTargets, mergedPhases, type Argv, type HandCommands, type HandPhase } from './hand-commands.js';
import type { Pod } from './pod.js';
import { spawner, type Spawner } from './spawner.js';

export type HandStyle = 'per-command' | 'batch';

const handScan = async (sh: Spawner, pod: Pod): Promise<readonly Link[]> => {
  const links = decodeLinks(await sh.run('ip', ['-n', pod.name, '-j', '-d', 'addr', 'show']));
  if (E.isLeft(links)) throw new Error(`hand scan: ${describeEndpointsError(links.left)}`);
  return handTargets(links.right);
};

const batchInput = (lines: readonly Argv[]): string =>
  lines
    .map((argv) => {
      const line = encodeBatchLine(argv);
      if (E.isLeft(line)) throw new Error(`cannot write ${JSON.stringify(line.left)} in a -batch line`);
      return line.right;
    })
    .join('\n') + '\n';

/** Runs the attach phases: one process per command, link by link (b), or one per merged phase (c). */
const runAttach = async (sh: Spawner, pod: Pod, style: HandStyle, perLink: readonly (readonly HandPhase[])[]): Promise<void> => {
  if (style === 'batch') {
    for (const { tool, argv } of mergedPhases(perLink)) if (argv.length > 0) await sh.run(tool, ['-n', pod.name, '-batch', '-'], batchInput(argv));
    return;
  }
  for (const phases of perLink) for (const { tool, argv } of phases) for (const a of argv) await sh.run(tool, ['-n', pod.name, ...a]);
};

/** Runs the detach commands, tc before ip: one process per command (b) or per tool (c). */
const runDetach = async (sh: Spawner, pod: Pod, style: HandStyle, c: HandCommands): Promise<void> => {
  for (const tool of ['tc', 'ip'] as const) {
    if (style === 'batch') {
      if (c[tool].length > 0) await sh.run(tool, ['-n', pod.name, '-batch', '-'], batchInput(c[tool]));
    } else for (const argv of c[tool]) await sh.run(tool, ['-n', pod.name, ...argv]);
  }
};

export const byHand = async (pod: Pod, queues: number, style: HandStyle): Promise<MethodRun> => {
  const sh = spawner();
  const clock = phaseClock(sh.count);
  const links = await handScan(sh, pod);
  if (links.length !== pod.links.length) throw new Error(`hand scan found ${links.length} veths, expected ${pod.links.length}`);
  clock.lap('scan');
  let attached = false;
  try {
    attached = true;
    await runAttach(sh, pod, style, links.map((l) => attachCommands(l, queues)));
    clock.lap('attach');
    openAndCloseQueues(pod.ns, links.map((l) => ({ name: defaultTapName(l.ifindex), queues, multiQueue: queues > 1 })));
    clock.lap('fds');
    await runDetach(sh, pod, style, detachCommands(links));
    attached = false;
    clock.lap('detach');
  } finally {
    if (attached) {
      // Error path: remove whatever part was made, ignoring lines that fail.
      const undo = detachCommands(links);
      await spawner().run('tc', ['-n', pod.name, '-force', '-batch', '-'], batchInput(undo.tc)).catch(() => undefined);
      await spawner().run('ip', ['-n', pod.name, '-force', '-batch', '-'], batchInput(undo.ip)).catch(() => undefined);
    }
  }
  return clock.result();
};
