import * as E from 'fp-ts/lib/Either.js';
import { attach, attachAll, type Attachment } from '@tapwire/netmodel';
import { usage, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';
import { endpointNamed, netmodelError, parse, parseModel, parseQueueOption, scanNetns, str, strs } from './plan.js';

export const ATTACH_HELP = `tapwire attach <netns> <link>|--all [--model tcfilter|macvtap|none] [--queues N] [--tap-name T] [--tap NAME]... [--json]
  Wire an endpoint (or, with --all, every attachable one) to a tap the VM can open.
  All or nothing: a failure undoes what this run made. Attaching again reports the
  existing attachment.`;

export const attachmentRows = (as: readonly Attachment[]): string =>
  renderTable(
    ['LINK', 'TAP', 'DEVICE', 'MODEL', 'QUEUES', 'GUEST-MAC', 'MTU', 'STATUS'],
    as.map((a) => [a.link, a.tapName, a.device, a.model, `${a.queues}${a.multiQueue ? ' (multi-queue)' : ''}`, a.guestMac, String(a.mtu), a.existing === true ? 'existing' : 'created']),
  );

export const attachCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const parsed = parse('attach', ATTACH_HELP, argv, {
    all: { type: 'boolean', default: false },
    model: { type: 'string' },
    queues: { type: 'string' },
    'tap-name': { type: 'string' },
    tap: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  });
  if (E.isLeft(parsed)) return parsed;
  const { values, positionals } = parsed.right;
  const all = values['all'] === true;
  const [spec, link, ...extra] = positionals;
  if (spec === undefined || extra.length > 0 || (link === undefined) === !all) {
    return E.left(usage(`attach: expected <netns> and either <link> or --all\n${ATTACH_HELP}`));
  }
  const tapName = str(values['tap-name']);
  if (all && tapName !== undefined) return E.left(usage('attach: --tap-name names one tap; it cannot go with --all'));
  const model = parseModel(str(values['model']));
  if (E.isLeft(model)) return model;
  const queues = parseQueueOption(str(values['queues']));
  if (E.isLeft(queues)) return queues;
  const scanned = await scanNetns(spec, strs(values['tap']));
  if (E.isLeft(scanned)) return scanned;
  const { ns } = scanned.right;
  let made: E.Either<CliError, readonly Attachment[]>;
  if (link === undefined) {
    made = E.mapLeft(netmodelError)(await attachAll(ns, scanned.right.endpoints, model.right, { queues: queues.right })());
  } else {
    const ep = endpointNamed(scanned.right, link);
    if (E.isLeft(ep)) return ep;
    const r = await attach(ns, ep.right, model.right, { queues: queues.right, ...(tapName === undefined ? {} : { tapName }) })();
    made = E.isLeft(r) ? E.left(netmodelError(r.left)) : E.right([r.right]);
  }
  if (E.isLeft(made)) return made;
  io.out(values['json'] === true ? JSON.stringify(made.right, null, 2) : made.right.length === 0 ? 'nothing to attach' : attachmentRows(made.right));
  return E.right(undefined);
};
