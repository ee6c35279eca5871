import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan, type Endpoint, type Snapshot } from '@tapwire/endpoints';
import { MODELS, parseQueues, plan, renderPlan, renderUndo, type Model, type NetmodelError } from '@tapwire/netmodel';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { usage, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';

export const PLAN_HELP = `tapwire plan <netns> <link> [--model tcfilter|macvtap|none] [--queues N] [--tap-name T] [--tap NAME]... [--json]
  Print the exact ip/tc commands attach would run (and their undo); changes nothing.
  --model defaults to tcfilter; --queues 1..256 (>1: multi-queue); --tap NAME hands
  a tap over as is (model none).`;

// Shared by plan/attach/detach/check: the netmodel verbs' command-line pieces.

export const netmodelError = (error: NetmodelError): CliError => ({ _tag: 'Netmodel', error });

export const parseModel = (text: string | undefined): E.Either<CliError, Model> => {
  const m = text ?? 'tcfilter';
  return (MODELS as readonly string[]).includes(m)
    ? E.right(m as Model)
    : E.left(netmodelError({ _tag: 'BadModel', input: m, expected: MODELS.join(', ') }));
};

export const parseQueueOption = (text: string | undefined): E.Either<CliError, number> =>
  text === undefined ? E.right(1) : E.mapLeft(netmodelError)(parseQueues(text));

type OptionSpecs = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;
export type Values = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

export const parse = (verb: string, help: string, argv: readonly string[], options: OptionSpecs): E.Either<CliError, { values: Values; positionals: string[] }> => {
  try {
    const r = parseArgs({ args: [...argv], allowPositionals: true, options });
    return E.right({ values: r.values as Values, positionals: r.positionals });
  } catch (e) {
    return E.left(usage(`${verb}: ${(e as Error).message}\n${help}`));
  }
};

export const str = (v: Values[string]): string | undefined => (typeof v === 'string' ? v : undefined);
export const strs = (v: Values[string]): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export interface Scanned {
  readonly ns: NetnsHandle;
  readonly snapshot: Snapshot;
  readonly endpoints: readonly Endpoint[];
}

export const scanNetns = async (spec: string, asTap: readonly string[]): Promise<E.Either<CliError, Scanned>> => {
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return ns;
  const s = await scan(ns.right)();
  if (E.isLeft(s)) return s;
  return E.right({ ns: ns.right, snapshot: s.right, endpoints: classify(s.right, { asTap }) });
};

export const endpointNamed = (s: Scanned, link: string): E.Either<CliError, Endpoint> => {
  const e = s.endpoints.find((x) => x.link.name === link);
  return e === undefined ? E.left(netmodelError({ _tag: 'LinkNotFound', netns: s.ns.spec, link })) : E.right(e);
};

export const planCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const parsed = parse('plan', PLAN_HELP, argv, {
    model: { type: 'string' },
    queues: { type: 'string' },
    'tap-name': { type: 'string' },
    tap: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  });
  if (E.isLeft(parsed)) return parsed;
  const { values, positionals } = parsed.right;
  const [spec, link, ...extra] = positionals;
  if (spec === undefined || link === undefined || extra.length > 0) return E.left(usage(`plan: expected <netns> <link>\n${PLAN_HELP}`));
  const model = parseModel(str(values['model']));
  if (E.isLeft(model)) return model;
  const queues = parseQueueOption(str(values['queues']));
  if (E.isLeft(queues)) return queues;
  const scanned = await scanNetns(spec, strs(values['tap']));
  if (E.isLeft(scanned)) return scanned;
  const ep = endpointNamed(scanned.right, link);
  if (E.isLeft(ep)) return ep;
  const tapName = str(values['tap-name']);
  const p = plan(ep.right, model.right, { queues: queues.right, routes: scanned.right.snapshot.routes, ...(tapName === undefined ? {} : { tapName }) });
  if (E.isLeft(p)) return E.left(netmodelError(p.left));
  if (values['json'] === true) {
    const { phases: _phases, ...summary } = p.right;
    io.out(JSON.stringify({ ...summary, commands: renderPlan(p.right), undo: renderUndo(p.right) }, null, 2));
  } else {
    const cmds = renderPlan(p.right);
    io.out(cmds.length === 0 ? `# model none: ${p.right.tapName} is handed to the VM as it is; nothing to run` : cmds.join('\n'));
  }
  return E.right(undefined);
};
