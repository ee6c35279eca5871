import * as E from 'fp-ts/lib/Either.js';
import { plan, renderPlan, renderUndo, type Plan } from '@tapwire/netmodel';
import type { CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { endpointNamed, modelQueuesAndScan, netmodelError, NETMODEL_OPTIONS } from './netmodel-args.js';
import { parseVerbArgs, usageOf, type Verb } from './verb-args.js';

export const PLAN_HELP = `tapwire plan <netns> <link> [--model tcfilter|macvtap|none] [--queues N] [--tap-name T] [--tap NAME]...
              [--tap-owner UID|none] [--tap-group GID|none] [--json]
  Print the exact ip/tc commands attach would run (and their undo); changes nothing.
  --model defaults to tcfilter; --queues 1..256 (>1: multi-queue); --tap NAME hands
  a tap over as is (model none); --tap-owner/--tap-group: who may open the tap's
  queues (default this process's uid and gid; none: any process in the netns).`;

const VERB: Verb = { name: 'plan', help: PLAN_HELP };

/** Who may attach queues to the tap, said before the commands (a shell reads it as a comment). */
const ownershipNote = (p: Plan): string[] => {
  if (p.device !== 'tap') return [];
  if (p.owner === undefined && p.group === undefined) return [`# ${p.tapName}: no owner or group - any process in the netns that can open /dev/net/tun may attach a queue`];
  const who = [...(p.owner === undefined ? [] : [`uid ${p.owner}`]), ...(p.group === undefined ? [] : [`gid ${p.group}`])].join(' and ');
  return [`# ${p.tapName}: only ${who} (or CAP_NET_ADMIN) may attach a queue`];
};

export const planCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const parsed = parseVerbArgs(VERB, argv, NETMODEL_OPTIONS);
  if (E.isLeft(parsed)) return parsed;
  const { values, positionals } = parsed.right;
  const [spec, link, ...extra] = positionals;
  if (spec === undefined || link === undefined || extra.length > 0) return E.left(usageOf(VERB, 'expected <netns> <link>'));
  const start = await modelQueuesAndScan(spec, values);
  if (E.isLeft(start)) return start;
  const { model, queues, ids, scanned } = start.right;
  const ep = endpointNamed(scanned, link);
  if (E.isLeft(ep)) return ep;
  const tapName = values['tap-name'];
  const p = plan(ep.right, model, { queues, ...ids, routes: scanned.snapshot.routes, ...(tapName === undefined ? {} : { tapName }) });
  if (E.isLeft(p)) return E.left(netmodelError(p.left));
  if (values.json) {
    const { phases: _phases, ...summary } = p.right;
    io.out(JSON.stringify({ ...summary, commands: renderPlan(p.right), undo: renderUndo(p.right) }, null, 2));
  } else {
    const cmds = renderPlan(p.right);
    io.out(cmds.length === 0 ? `# model none: ${p.right.tapName} is handed to the VM as it is; nothing to run` : [...ownershipNote(p.right), ...cmds].join('\n'));
  }
  return E.right(undefined);
};
