// Reading a netns for netmodel: two processes (one `ip -batch`, one `tc -batch`)
// whatever the number of links, decoded with io-ts.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { decodeLinks, decodeRoutes, reportDecodeErrors, type DecodeError, type Link, type Route } from '@tapwire/endpoints';
import { runBatch, runBatchJson, splitBatchJson, type NetnsHandle } from '@tapwire/sys';
import { fromEndpoints, fromSys, type NetmodelError } from './errors.js';
import { DETACH_GROUP } from './model.js';
import { decodeFilters, decodeQdiscs, type TcFilter, type TcQdisc } from './tc-json.js';
import { DEFAULT_EXECUTOR, type Executor } from './executor.js';
import { readNetnsNetlink } from './state-netlink.js';

export interface NetnsView {
  readonly links: readonly Link[];
  readonly routes: readonly Route[];
  readonly qdiscs: readonly TcQdisc[];
  /** Ingress filters by device name, for every link. */
  readonly filters: Readonly<Record<string, readonly TcFilter[]>>;
  /** Names of the links in DETACH_GROUP: detach deletes by group only when they are all its own. */
  readonly inDetachGroup: readonly string[];
}

// `ip -j link show group G` prints {} for every link outside the group.
const GroupMembers = t.array(t.partial({ ifname: t.string }), 'links in a group');

const decodeGroup = (text: string | undefined): E.Either<DecodeError, readonly string[]> => {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch (e) {
    return E.left({ _tag: 'DecodeError', input: 'ip link show group', problems: [`not JSON (${(e as Error).message})`] });
  }
  return pipe(
    GroupMembers.decode(raw),
    E.mapLeft((errs): DecodeError => ({ _tag: 'DecodeError', input: 'ip link show group', problems: reportDecodeErrors('ip link show group', errs) })),
    E.map((ls) => ls.flatMap((l) => (l.ifname === undefined ? [] : [l.ifname]))),
  );
};

type IpView = Pick<NetnsView, 'links' | 'routes' | 'inDetachGroup'>;

const readIp = (ns: NetnsHandle): TE.TaskEither<NetmodelError, IpView> =>
  pipe(
    runBatchJson(ns, [['addr', 'show'], ['route', 'show', 'table', 'all'], ['link', 'show', 'group', String(DETACH_GROUP)]]),
    TE.mapLeft(fromSys),
    TE.chainEitherK((docs) =>
      pipe(
        E.Do,
        E.apS('links', decodeLinks(docs[0])),
        E.apS('routes', decodeRoutes(docs[1])),
        E.apS('inDetachGroup', decodeGroup(docs[2])),
        E.mapLeft(fromEndpoints),
      ),
    ),
  );

/** tc output: the qdisc list, then one filter list per link (in link order). */
const readTc = (ns: NetnsHandle, links: readonly Link[]): TE.TaskEither<NetmodelError, Pick<NetnsView, 'qdiscs' | 'filters'>> =>
  pipe(
    runBatch(ns, 'tc', [['qdisc', 'show'], ...links.map((l) => ['filter', 'show', 'dev', l.name, 'ingress'])], { json: true }),
    TE.mapLeft(fromSys),
    TE.chainEitherK((r) => {
      const docs = splitBatchJson(r.stdout);
      const qdiscs = decodeQdiscs(docs[0]);
      if (E.isLeft(qdiscs)) return E.left(fromEndpoints(qdiscs.left));
      const filters: Record<string, readonly TcFilter[]> = {};
      for (const [i, l] of links.entries()) {
        const fs = decodeFilters(l.name, docs[i + 1]);
        if (E.isLeft(fs)) return E.left(fromEndpoints(fs.left));
        filters[l.name] = fs.right;
      }
      return E.right<NetmodelError, Pick<NetnsView, 'qdiscs' | 'filters'>>({ qdiscs: qdiscs.right, filters });
    }),
  );

/**
 * Links, routes, qdiscs and ingress filters of the netns: over rtnetlink
 * (state-netlink.ts, no process) or in two process spawns (ip, tc).
 */
export const readNetns = (ns: NetnsHandle, reader: Executor = DEFAULT_EXECUTOR, opts: { readonly filters?: boolean } = {}): TE.TaskEither<NetmodelError, NetnsView> =>
  reader === 'netlink' ? readNetnsNetlink(ns, opts.filters !== false) : readNetnsIproute2(ns);

const readNetnsIproute2 = (ns: NetnsHandle): TE.TaskEither<NetmodelError, NetnsView> =>
  pipe(
    readIp(ns),
    TE.chain((ip) => TE.map((tc: Pick<NetnsView, 'qdiscs' | 'filters'>): NetnsView => ({ ...ip, ...tc }))(readTc(ns, ip.links))),
  );

/**
 * What "the netns is as it was" means, as a value to compare with deepEqual:
 * links (name, kind, mac, mtu, up, txqlen, alias, addresses in order), routes,
 * qdiscs and ingress filters. Routes and qdiscs are sorted: the kernel lists
 * equal prefixes in insertion order, which restoring may change.
 */
export const netnsState = (ns: NetnsHandle): TE.TaskEither<NetmodelError, unknown> =>
  TE.map((v: NetnsView) => {
    const sorted = <T>(xs: readonly T[]): T[] => xs.map((x) => JSON.stringify(x)).sort().map((s) => JSON.parse(s) as T);
    return {
      links: v.links.map((l) => ({
        name: l.name,
        kind: l.kind ?? null,
        mac: l.mac ?? null,
        mtu: l.mtu,
        up: l.flags.includes('UP'),
        txqlen: l.txqlen ?? null,
        alias: l.alias ?? null,
        addresses: l.addresses.map((a) => `${a.local}/${a.prefixlen} ${a.scope}${a.broadcast === undefined ? '' : ` brd ${a.broadcast}`}`),
      })),
      routes: sorted(v.routes.map((r) => ({ ...r }))),
      qdiscs: sorted(v.qdiscs.map((q) => ({ dev: q.dev ?? null, kind: q.kind, handle: q.handle, parent: q.parent ?? null }))),
      filters: Object.fromEntries(
        Object.entries(v.filters).map(([dev, fs]) => [dev, fs.map((f) => ({ parent: f.parent, protocol: f.protocol, pref: f.pref, kind: f.kind, options: f.options ?? null }))]),
      ),
    };
  })(readNetns(ns, 'iproute2'));
