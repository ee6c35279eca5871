import * as E from 'fp-ts/lib/Either.js';
import { attach, attachAll, type Attachment } from '@tapwire/netmodel';
import { usage, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';
import { endpointNamed, modelQueuesAndScan, netmodelError, NETMODEL_OPTIONS } from './netmodel-args.js';
import { netnsAndTargetOrAll, parseVerbArgs, type Verb } from './verb-args.js';

export const ATTACH_HELP = `tapwire attach <netns> <link>|--all [--model tcfilter|macvtap|none] [--queues N] [--tap-name T] [--tap NAME]...
                [--tap-owner UID|none] [--tap-group GID|none] [--json]
  Wire an endpoint (or, with --all, every attachable one) to a tap the VM can open.
  All or nothing: a failure undoes what this run made. Attaching again reports the
  existing attachment. One attach or detach at a time per netns: another waits up to
  15 s, then fails "busy". A tap is owned by this process's uid and gid unless
  --tap-owner/--tap-group say otherwise (the VMM's user; none: any process in the netns).`;

const VERB: Verb = { name: 'attach', help: ATTACH_HELP };

export const attachmentRows = (as: readonly Attachment[]): string =>
  renderTable(
    ['LINK', 'TAP', 'DEVICE', 'MODEL', 'QUEUES', 'GUEST-MAC', 'MTU', 'STATUS'],
    as.map((a) => [a.link, a.tapName, a.device, a.model, `${a.queues}${a.multiQueue ? ' (multi-queue)' : ''}`, a.guestMac, String(a.mtu), a.existing === true ? 'existing' : 'created']),
  );

export const attachCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const parsed = parseVerbArgs(VERB, argv, { all: { type: 'boolean', default: false }, ...NETMODEL_OPTIONS });
  if (E.isLeft(parsed)) return parsed;
  const { values, positionals } = parsed.right;
  const args = netnsAndTargetOrAll(VERB, positionals, values.all);
  if (E.isLeft(args)) return args;
  const { spec, target: link } = args.right;
  const tapName = values['tap-name'];
  if (values.all && tapName !== undefined) return E.left(usage('attach: --tap-name names one tap; it cannot go with --all'));
  const start = await modelQueuesAndScan(spec, values);
  if (E.isLeft(start)) return start;
  const { model, queues, ids, scanned } = start.right;
  const { ns } = scanned;
  let made: E.Either<CliError, readonly Attachment[]>;
  if (link === undefined) {
    made = E.mapLeft(netmodelError)(await attachAll(ns, scanned.endpoints, model, { queues, ...ids })());
  } else {
    const ep = endpointNamed(scanned, link);
    if (E.isLeft(ep)) return ep;
    const r = await attach(ns, ep.right, model, { queues, ...ids, ...(tapName === undefined ? {} : { tapName }) })();
    made = E.isLeft(r) ? E.left(netmodelError(r.left)) : E.right([r.right]);
  }
  if (E.isLeft(made)) return made;
  io.out(values.json ? JSON.stringify(made.right, null, 2) : made.right.length === 0 ? 'nothing to attach' : attachmentRows(made.right));
  return E.right(undefined);
};
