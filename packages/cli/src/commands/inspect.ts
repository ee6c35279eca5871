import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { endpointReport, scanUntilAttachable, type EndpointReport } from '@tapwire/endpoints';
import { resolveNetns } from '@tapwire/sys';
import { usage, type CliError } from '../cli-error.js';
import { parseDuration } from '../duration.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';

export const INSPECT_HELP = `tapwire inspect <netns> [--json] [--wait DURATION] [--vhost-user-dir DIR] [--tap NAME]...
  Scan a network namespace (a name under /var/run/netns, a path, or pid:N) and
  classify every link. --wait polls until an attachable link appears.
  --tap NAME hands a tap over as is (kind "tap", model none).`;

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
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        wait: { type: 'string' },
        'vhost-user-dir': { type: 'string' },
        tap: { type: 'string', multiple: true },
      },
    });
  } catch (e) {
    return E.left(usage(`inspect: ${(e as Error).message}\n${INSPECT_HELP}`));
  }
  const [spec, ...extra] = parsed.positionals;
  if (spec === undefined || extra.length > 0) return E.left(usage(`inspect: expected exactly one netns\n${INSPECT_HELP}`));
  const wait = parsed.values.wait === undefined ? E.right(0) : parseDuration('--wait', parsed.values.wait);
  if (E.isLeft(wait)) return wait;
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return ns;
  const vhostUserDir = parsed.values['vhost-user-dir'];
  const result = await scanUntilAttachable(ns.right, wait.right, {
    ...(vhostUserDir === undefined ? {} : { vhostUserDir }),
    asTap: parsed.values.tap ?? [],
  })();
  if (E.isLeft(result)) return result;
  const reports = result.right.endpoints.map(endpointReport);
  io.out(parsed.values.json ? JSON.stringify(reports, null, 2) : renderTable(['NAME', 'KIND', 'MAC', 'MTU', 'ADDRESSES', 'ATTACHABLE', 'REASON'], humanRows(reports)));
  return E.right(undefined);
};
