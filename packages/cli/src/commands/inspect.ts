import * as E from 'fp-ts/lib/Either.js';
import { endpointReport, scanUntilAttachable, type Endpoint, type EndpointReport } from '@tapwire/endpoints';
import { resolveNetns, run, type NetnsHandle } from '@tapwire/sys';
import type { CliError } from '../cli-error.js';
import { parseDuration } from '../duration.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';
import { parseOneNetnsArgs, scanOptionsOf, SCAN_OPTIONS, type Verb } from './verb-args.js';

export const INSPECT_HELP = `tapwire inspect <netns> [--json] [--dot|--svg] [--wait DURATION] [--vhost-user-dir DIR] [--tap NAME]...
  Scan a network namespace (a name under /var/run/netns, a path, or pid:N) and
  classify every link. --wait polls until an attachable link appears.
  --dot prints the pod's wiring as a Graphviz graph (links, taps, tc redirects,
  macvtaps and their lower devices, the VM NIC net<i> each link becomes);
  --svg renders it with Graphviz's dot (Debian: apt-get install graphviz).
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
  const args = parseOneNetnsArgs(VERB, argv, {
    json: { type: 'boolean', default: false },
    dot: { type: 'boolean', default: false },
    svg: { type: 'boolean', default: false },
    wait: { type: 'string' },
    ...SCAN_OPTIONS,
  });
  if (E.isLeft(args)) return args;
  const { values, spec } = args.right;
  if ([values.json, values.dot, values.svg].filter(Boolean).length > 1) return E.left({ _tag: 'Usage', message: `inspect: --json, --dot and --svg exclude each other\n${INSPECT_HELP}` });
  const wait = values.wait === undefined ? E.right(0) : parseDuration('--wait', values.wait);
  if (E.isLeft(wait)) return wait;
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return ns;
  const result = await scanUntilAttachable(ns.right, wait.right, scanOptionsOf(values))();
  if (E.isLeft(result)) return result;
  if (values.dot || values.svg) return picture(ns.right, spec, result.right.endpoints, values.svg ? 'svg' : 'dot', io);
  const reports = result.right.endpoints.map(endpointReport);
  io.out(values.json ? JSON.stringify(reports, null, 2) : renderTable(['NAME', 'KIND', 'MAC', 'MTU', 'ADDRESSES', 'ATTACHABLE', 'REASON'], humanRows(reports)));
  return E.right(undefined);
};

/**
 * --dot/--svg: the tc filters too (netmodel's read: one ip and one tc
 * process), then the pure renderer, loaded only here.
 */
const picture = async (ns: NetnsHandle, spec: string, endpoints: readonly Endpoint[], format: 'dot' | 'svg', io: Output): Promise<E.Either<CliError, void>> => {
  const [{ renderDot }, { readNetns }] = await Promise.all([import('../dot.js'), import('@tapwire/netmodel')]);
  const view = await readNetns(ns)();
  if (E.isLeft(view)) return E.left({ _tag: 'Netmodel', error: view.left });
  const dot = renderDot({ netns: spec, endpoints, filters: view.right.filters });
  if (format === 'dot') {
    io.out(dot);
    return E.right(undefined);
  }
  const svg = await run(['dot', '-Tsvg'], { input: dot })();
  if (E.isLeft(svg)) {
    const missing = svg.left._tag === 'CommandFailed' && svg.left.exitCode === undefined;
    return E.left({ _tag: 'Failed', message: missing ? 'inspect --svg needs Graphviz\'s dot on PATH (Debian: apt-get install graphviz); --dot prints the graph as text' : `dot -Tsvg failed: ${svg.left._tag === 'CommandFailed' ? svg.left.stderr.trim() : svg.left._tag}` });
  }
  io.out(svg.right.stdout);
  return E.right(undefined);
};
