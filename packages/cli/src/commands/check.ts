import * as E from 'fp-ts/lib/Either.js';
import { check } from '@tapwire/netmodel';
import { resolveNetns } from '@tapwire/sys';
import { usage, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';
import { netmodelError, parse } from './plan.js';

export const CHECK_HELP = `tapwire check <netns> <link>|<tap>|--all [--json]
  Compare attachment(s) with the netns: missing tap, qdisc or filter, changed MAC
  or MTU... Exits 1 when anything drifted.`;

export const checkCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const parsed = parse('check', CHECK_HELP, argv, { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } });
  if (E.isLeft(parsed)) return parsed;
  const { values, positionals } = parsed.right;
  const all = values['all'] === true;
  const [spec, target, ...extra] = positionals;
  if (spec === undefined || extra.length > 0 || (target === undefined) === !all) {
    return E.left(usage(`check: expected <netns> and either <link> or --all\n${CHECK_HELP}`));
  }
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return ns;
  const r = await check(ns.right, target)();
  if (E.isLeft(r)) return E.left(netmodelError(r.left));
  const findings = r.right.reduce((n, c) => n + c.findings.length, 0);
  if (values['json'] === true) {
    io.out(JSON.stringify(r.right, null, 2));
  } else {
    const rows = r.right.flatMap((c) =>
      c.findings.length === 0 ? [[c.attachment.link, c.attachment.tapName, 'ok', '-']] : c.findings.map((f) => [c.attachment.link, c.attachment.tapName, f._tag, f.message]),
    );
    io.out(rows.length === 0 ? 'no attachments' : renderTable(['LINK', 'TAP', 'FINDING', 'DETAIL'], rows));
  }
  return findings === 0 ? E.right(undefined) : E.left({ _tag: 'Drift', findings });
};
