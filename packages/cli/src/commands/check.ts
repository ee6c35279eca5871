import * as E from 'fp-ts/lib/Either.js';
import { check } from '@tapwire/netmodel';
import type { CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';
import { netmodelError } from './netmodel-args.js';
import { parseTargetArgs, type Verb } from './verb-args.js';

export const CHECK_HELP = `tapwire check <netns> <link>|<tap>|--all [--json]
  Compare attachment(s) with the netns: missing tap, qdisc or filter, changed MAC
  or MTU... Exits 1 when anything drifted.`;

const VERB: Verb = { name: 'check', help: CHECK_HELP };

export const checkCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const args = parseTargetArgs(VERB, argv);
  if (E.isLeft(args)) return args;
  const { ns, target, json } = args.right;
  const r = await check(ns, target)();
  if (E.isLeft(r)) return E.left(netmodelError(r.left));
  const findings = r.right.reduce((n, c) => n + c.findings.length, 0);
  if (json) {
    io.out(JSON.stringify(r.right, null, 2));
  } else {
    const rows = r.right.flatMap((c) =>
      c.findings.length === 0 ? [[c.attachment.link, c.attachment.tapName, 'ok', '-']] : c.findings.map((f) => [c.attachment.link, c.attachment.tapName, f._tag, f.message]),
    );
    io.out(rows.length === 0 ? 'no attachments' : renderTable(['LINK', 'TAP', 'FINDING', 'DETAIL'], rows));
  }
  return findings === 0 ? E.right(undefined) : E.left({ _tag: 'Drift', findings });
};
