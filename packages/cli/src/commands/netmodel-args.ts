// What plan and attach share: their options, --model and --queues, and the
// scanned netns with the endpoint a <link> names.
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan, type Endpoint, type Snapshot } from '@tapwire/endpoints';
import { MODELS, parseQueues, type Model, type NetmodelError } from '@tapwire/netmodel';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import type { CliError } from '../cli-error.js';

export const netmodelError = (error: NetmodelError): CliError => ({ _tag: 'Netmodel', error });

const parseModel = (text: string | undefined): E.Either<CliError, Model> => {
  const m = text ?? 'tcfilter';
  return (MODELS as readonly string[]).includes(m)
    ? E.right(m as Model)
    : E.left(netmodelError({ _tag: 'BadModel', input: m, expected: MODELS.join(', ') }));
};

const parseQueueOption = (text: string | undefined): E.Either<CliError, number> =>
  text === undefined ? E.right(1) : E.mapLeft(netmodelError)(parseQueues(text));

export const NETMODEL_OPTIONS = {
  model: { type: 'string' },
  queues: { type: 'string' },
  'tap-name': { type: 'string' },
  tap: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
} as const;

export interface Scanned {
  readonly ns: NetnsHandle;
  readonly snapshot: Snapshot;
  readonly endpoints: readonly Endpoint[];
}

const scanNetns = async (spec: string, asTap: readonly string[]): Promise<E.Either<CliError, Scanned>> => {
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return ns;
  const s = await scan(ns.right)();
  if (E.isLeft(s)) return s;
  return E.right({ ns: ns.right, snapshot: s.right, endpoints: classify(s.right, { asTap }) });
};

/** --model, --queues, then the netns scanned (--tap): checked in that order. */
export const modelQueuesAndScan = async (
  spec: string,
  values: { model?: string | undefined; queues?: string | undefined; tap?: string[] | undefined },
): Promise<E.Either<CliError, { model: Model; queues: number; scanned: Scanned }>> => {
  const model = parseModel(values.model);
  if (E.isLeft(model)) return model;
  const queues = parseQueueOption(values.queues);
  if (E.isLeft(queues)) return queues;
  const scanned = await scanNetns(spec, values.tap ?? []);
  if (E.isLeft(scanned)) return scanned;
  return E.right({ model: model.right, queues: queues.right, scanned: scanned.right });
};

export const endpointNamed = (s: Scanned, link: string): E.Either<CliError, Endpoint> => {
  const e = s.endpoints.find((x) => x.link.name === link);
  return e === undefined ? E.left(netmodelError({ _tag: 'LinkNotFound', netns: s.ns.spec, link })) : E.right(e);
};
