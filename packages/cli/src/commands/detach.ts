import * as E from 'fp-ts/lib/Either.js';
import { detach, detachAll } from '@tapwire/netmodel';
import type { CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { netmodelError } from './netmodel-args.js';
import { parseTargetArgs, type Verb } from './verb-args.js';

export const DETACH_HELP = `tapwire detach <netns> <link>|<tap>|--all [--json]
  Remove tapwire's attachment(s) and restore the endpoint exactly as attach found
  it (what to restore is read from the netns itself). Detaching what is not
  attached succeeds and says so.`;

const VERB: Verb = { name: 'detach', help: DETACH_HELP };

export const detachCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const args = parseTargetArgs(VERB, argv);
  if (E.isLeft(args)) return args;
  const { ns, target, json } = args.right;
  const r = await (target === undefined ? detachAll(ns) : detach(ns, target))();
  if (E.isLeft(r)) return E.left(netmodelError(r.left));
  if (json) io.out(JSON.stringify(r.right, null, 2));
  else io.out(r.right.detached.length === 0 ? `nothing attached${target === undefined ? '' : ` to ${target}`}: nothing to do` : r.right.detached.map((a) => `detached ${a.tapName} (${a.device}, model ${a.model}) from ${a.link}`).join('\n'));
  return E.right(undefined);
};
