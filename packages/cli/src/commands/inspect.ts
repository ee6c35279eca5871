import * as E from 'fp-ts/lib/Either.js';
import { endpointReport, scanUntilAttachable, type EndpointReport } from '@tapwire/endpoints';
import { resolveNetns } from '@tapwire/sys';
import type { CliError } from '../cli-error.js';
import { parseDuration } from '../duration.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';
import { parseOneNetnsArgs, scanOptionsOf, SCAN_OPTIONS, type Verb } from './verb-args.js';

export const INSPECT_HELP = `tapwire inspect <netns> [--json] [--wait DURATION] [--vhost-user-dir DIR] [--tap NAME]...
  Scan a network namespace (a name under /var/run/netns, a path, or pid:N) and
  classify every link. --wait polls until an attachable link appears.
  --tap NAME hands a tap over as is (kind "tap", model none).`;

const VERB: Verb = { name: 'inspect', help: INSPECT_HELP };

const humanRows = (reports: readonly EndpointReport[]): string[][] =>
  reports.map((r) => [
    r.name,
    r.kind,
    r.mac ?? '-',
    String(r.mtu),
    r.addresses.join(',') || '-',
    r.skipped === null ? 'yes' : `no: ${r.skipped}`,
    r.reason,
  ]);

export const inspectCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const args = parseOneNetnsArgs(VERB, argv, { json: { type: 'boolean', default: false }, wait: { type: 'string' }, ...SCAN_OPTIONS });
  if (E.isLeft(args)) return args;
  const { values, spec } = args.right;
  const wait = values.wait === undefined ? E.right(0) : parseDuration('--wait', values.wait);
  if (E.isLeft(wait)) return wait;
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return ns;
  const result = await scanUntilAttachable(ns.right, wait.right, scanOptionsOf(values))();
  if (E.isLeft(result)) return result;
  const reports = result.right.endpoints.map(endpointReport);
  io.out(values.json ? JSON.stringify(reports, null, 2) : renderTable(['NAME', 'KIND', 'MAC', 'MTU', 'ADDRESSES', 'ATTACHABLE', 'REASON'], humanRows(reports)));
  return E.right(undefined);
};
