// Reading a netns for netmodel: two processes (one `ip -batch`, one `tc -batch`)
// whatever the number of links, decoded with io-ts.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeLinks, decodeRoutes, type Link, type Route } from '@tapwire/endpoints';
import { runBatch, runBatchJson, splitBatchJson, type NetnsHandle } from '@tapwire/sys';
import type { NetmodelError } from './errors.js';
import { decodeFilters, decodeQdiscs, type TcFilter, type TcQdisc } from './tc-json.js';

export interface NetnsView {
  readonly links: readonly Link[];
  readonly routes: readonly Route[];
  readonly qdiscs: readonly TcQdisc[];
  /** Ingress filters by device name, for every link. */
  readonly filters: Readonly<Record<string, readonly TcFilter[]>>;
}

const readIp = (ns: NetnsHandle): TE.TaskEither<NetmodelError, { links: readonly Link[]; routes: readonly Route[] }> =>
  pipe(
    runBatchJson(ns, [['addr', 'show'], ['route', 'show', 'table', 'all']]),
    TE.chainEitherKW((docs) =>
      pipe(
        decodeLinks(docs[0]),
        E.chainW((links) => E.map((routes: readonly Route[]) => ({ links, routes }))(decodeRoutes(docs[1]))),
      ),
    ),
  );

/** tc output: the qdisc list, then one filter list per link (in link order). */
const readTc = (ns: NetnsHandle, links: readonly Link[]): TE.TaskEither<NetmodelError, Pick<NetnsView, 'qdiscs' | 'filters'>> =>
  pipe(
    runBatch(ns, 'tc', [['qdisc', 'show'], ...links.map((l) => ['filter', 'show', 'dev', l.name, 'ingress'])], { json: true }),
    TE.chainEitherKW((r) => {
      const docs = splitBatchJson(r.stdout);
      const qdiscs = decodeQdiscs(docs[0]);
      if (E.isLeft(qdiscs)) return qdiscs;
      const filters: Record<string, readonly TcFilter[]> = {};
      for (const [i, l] of links.entries()) {
        const fs = decodeFilters(l.name, docs[i + 1]);
        if (E.isLeft(fs)) return fs;
        filters[l.name] = fs.right;
      }
      return E.right({ qdiscs: qdiscs.right, filters });
    }),
  );

/** Links, routes, qdiscs and ingress filters of the netns in two process spawns. */
export const readNetns = (ns: NetnsHandle): TE.TaskEither<NetmodelError, NetnsView> =>
  pipe(
    readIp(ns),
    TE.chain(({ links, routes }) => TE.map((tc: Pick<NetnsView, 'qdiscs' | 'filters'>): NetnsView => ({ links, routes, ...tc }))(readTc(ns, links))),
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
  })(readNetns(ns));
