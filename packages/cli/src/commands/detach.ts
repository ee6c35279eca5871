import * as E from 'fp-ts/lib/Either.js';
import { detach, detachAll } from '@tapwire/netmodel';
import { resolveNetns } from '@tapwire/sys';
import { usage, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { netmodelError, parse } from './plan.js';

export const DETACH_HELP = `tapwire detach <netns> <link>|<tap>|--all [--json]
  Remove tapwire's attachment(s) and restore the endpoint exactly as attach found
  it (what to restore is read from the netns itself). Detaching what is not
  attached succeeds and says so.`;

export const detachCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const parsed = parse('detach', DETACH_HELP, argv, { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } });
  if (E.isLeft(parsed)) return parsed;
  const { values, positionals } = parsed.right;
  const all = values['all'] === true;
  const [spec, target, ...extra] = positionals;
  if (spec === undefined || extra.length > 0 || (target === undefined) === !all) {
    return E.left(usage(`detach: expected <netns> and either <link> or --all\n${DETACH_HELP}`));
  }
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return ns;
  const r = await (target === undefined ? detachAll(ns.right) : detach(ns.right, target))();
  if (E.isLeft(r)) return E.left(netmodelError(r.left));
  if (values['json'] === true) io.out(JSON.stringify(r.right, null, 2));
  else io.out(r.right.detached.length === 0 ? `nothing attached${target === undefined ? '' : ` to ${target}`}: nothing to do` : r.right.detached.map((a) => `detached ${a.tapName} (${a.device}, model ${a.model}) from ${a.link}`).join('\n'));
  return E.right(undefined);
};
