// What plan and attach share: their options, --model and --queues, and the
// scanned netns with the endpoint a <link> names.
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan, type Endpoint, type Snapshot } from '@tapwire/endpoints';
import { MODELS, parseQueues, parseTapId, type Model, type NetmodelError, type TapId } from '@tapwire/netmodel';
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
  'tap-owner': { type: 'string' },
  'tap-group': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** What --tap-owner/--tap-group say; absent when not given (netmodel then uses this process's uid/gid). */
export interface TapIds {
  readonly owner?: TapId;
  readonly group?: TapId;
}

/** --tap-owner UID|none and --tap-group GID|none. */
export const parseTapIds = (values: { 'tap-owner'?: string | undefined; 'tap-group'?: string | undefined }): E.Either<CliError, TapIds> => {
  const out: { owner?: TapId; group?: TapId } = {};
  for (const [field, text] of [['owner', values['tap-owner']], ['group', values['tap-group']]] as const) {
    if (text === undefined) continue;
    const id = parseTapId(field, text);
    if (E.isLeft(id)) return E.left(netmodelError(id.left));
    out[field] = id.right;
  }
  return E.right(out);
};

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

/** --model, --queues, --tap-owner/--tap-group, then the netns scanned (--tap): checked in that order. */
export const modelQueuesAndScan = async (
  spec: string,
  values: { model?: string | undefined; queues?: string | undefined; tap?: string[] | undefined; 'tap-owner'?: string | undefined; 'tap-group'?: string | undefined },
): Promise<E.Either<CliError, { model: Model; queues: number; ids: TapIds; scanned: Scanned }>> => {
  const model = parseModel(values.model);
  if (E.isLeft(model)) return model;
  const queues = parseQueueOption(values.queues);
  if (E.isLeft(queues)) return queues;
  const ids = parseTapIds(values);
  if (E.isLeft(ids)) return ids;
  const scanned = await scanNetns(spec, values.tap ?? []);
  if (E.isLeft(scanned)) return scanned;
  return E.right({ model: model.right, queues: queues.right, ids: ids.right, scanned: scanned.right });
};

export const endpointNamed = (s: Scanned, link: string): E.Either<CliError, Endpoint> => {
  const e = s.endpoints.find((x) => x.link.name === link);
  return e === undefined ? E.left(netmodelError({ _tag: 'LinkNotFound', netns: s.ns.spec, link })) : E.right(e);
};
