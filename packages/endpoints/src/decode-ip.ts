// io-ts codecs for iproute2's JSON (`ip -j -d addr show`, `route show table all`,
// `neigh show`) and their mapping to the model. Only fields we use are required;
// everything else ip may add later is ignored.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { reportDecodeErrors } from './decode-report.js';
import type { Address, Link, Neighbour, Route, TunInfo } from './model.js';

const opt = <C extends t.Mixed>(c: C) => t.union([c, t.undefined]);

const IpAddrInfo = t.intersection([
  t.type({ family: t.string }),
  t.partial({ local: t.string, prefixlen: t.number, scope: t.string, broadcast: t.string }),
], 'addr_info entry');

const IpLinkInfo = t.partial({
  info_kind: t.string,
  info_data: t.UnknownRecord,
  info_slave_kind: t.string,
}, 'linkinfo');

const IpLink = t.intersection([
  t.type({ ifindex: t.number, ifname: t.string, flags: t.array(t.string), mtu: t.number }),
  t.partial({
    operstate: t.string,
    link_type: t.string,
    address: t.string,
    txqlen: t.number,
    link: opt(t.union([t.string, t.null])),
    link_index: t.number,
    link_netnsid: t.number,
    master: t.string,
    ifalias: t.string,
    num_tx_queues: t.number,
    num_rx_queues: t.number,
    linkinfo: IpLinkInfo,
    addr_info: t.array(IpAddrInfo),
  }),
], 'link');
export type IpLink = t.TypeOf<typeof IpLink>;

const IpRoute = t.intersection([
  t.type({ dst: t.string }),
  t.partial({
    gateway: t.string,
    dev: t.string,
    table: t.string,
    type: t.string,
    protocol: t.string,
    scope: t.string,
    prefsrc: t.string,
    metric: t.number,
    pref: t.string,
  }),
], 'route');

const IpNeigh = t.intersection([
  t.type({ dst: t.string, dev: t.string }),
  t.partial({ lladdr: t.string, state: t.array(t.string) }),
], 'neighbour');

export interface DecodeError {
  readonly _tag: 'DecodeError';
  /** Which input: e.g. "ip addr show". */
  readonly input: string;
  readonly problems: readonly string[];
}

const decodeJson = <A>(input: string, codec: t.Type<A, unknown, unknown>, text: string | undefined): E.Either<DecodeError, A> => {
  if (text === undefined) return E.left({ _tag: 'DecodeError', input, problems: [`${input}: no output`] });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return E.left({ _tag: 'DecodeError', input, problems: [`${input}: not JSON (${(e as Error).message})`] });
  }
  return E.mapLeft((errs: t.Errors): DecodeError => ({ _tag: 'DecodeError', input, problems: reportDecodeErrors(input, errs) }))(
    codec.decode(raw),
  );
};

const bool = (v: unknown): boolean => v === true;

const tunInfo = (data: Readonly<Record<string, unknown>>): TunInfo => ({
  mode: data['type'] === 'tap' ? 'tap' : data['type'] === 'tun' ? 'tun' : 'unknown',
  multiQueue: bool(data['multi_queue']),
  vnetHdr: bool(data['vnet_hdr']),
  persist: bool(data['persist']),
  pi: bool(data['pi']),
});

const toAddress = (a: t.TypeOf<typeof IpAddrInfo>): Address[] =>
  (a.family === 'inet' || a.family === 'inet6') && a.local !== undefined && a.prefixlen !== undefined
    ? [{ family: a.family, local: a.local, prefixlen: a.prefixlen, scope: a.scope ?? 'global', ...(a.broadcast === undefined ? {} : { broadcast: a.broadcast }) }]
    : [];

export const toLink = (l: IpLink): Link => {
  const kind = l.linkinfo?.info_kind;
  const kindData = l.linkinfo?.info_data ?? {};
  const parentName = typeof l.link === 'string' ? l.link : undefined;
  const hasParent = parentName !== undefined || l.link_index !== undefined;
  return {
    name: l.ifname,
    ifindex: l.ifindex,
    kind,
    kindData,
    slaveKind: l.linkinfo?.info_slave_kind,
    linkType: l.link_type ?? 'unknown',
    mac: l.address,
    mtu: l.mtu,
    txqlen: l.txqlen,
    flags: l.flags,
    operstate: l.operstate ?? 'UNKNOWN',
    parent: hasParent
      ? { name: parentName, ifindex: l.link_index, otherNetns: l.link_netnsid !== undefined, ...(l.link_netnsid === undefined ? {} : { netnsid: l.link_netnsid }) }
      : undefined,
    master: l.master,
    alias: l.ifalias,
    numTxQueues: l.num_tx_queues,
    numRxQueues: l.num_rx_queues,
    addresses: (l.addr_info ?? []).flatMap(toAddress),
    tun: kind === 'tun' ? tunInfo(kindData) : undefined,
  };
};

// ip's route JSON has no family field: only v6 routes carry `pref`, and a v6
// destination or gateway has a ':'.
const routeFamily = (r: t.TypeOf<typeof IpRoute>): 'inet' | 'inet6' =>
  r.pref !== undefined || r.dst.includes(':') || (r.gateway ?? '').includes(':') ? 'inet6' : 'inet';

export const decodeLinks = (text: string | undefined): E.Either<DecodeError, readonly Link[]> =>
  E.map((ls: IpLink[]) => ls.map(toLink))(decodeJson('ip addr show', t.array(IpLink, 'links'), text));

export const decodeRoutes = (text: string | undefined): E.Either<DecodeError, readonly Route[]> =>
  E.map((rs: t.TypeOf<typeof IpRoute>[]) =>
    rs.map((r): Route => ({
      dst: r.dst,
      gateway: r.gateway,
      dev: r.dev,
      table: r.table,
      type: r.type,
      protocol: r.protocol,
      scope: r.scope,
      prefsrc: r.prefsrc,
      metric: r.metric,
      family: routeFamily(r),
    })),
  )(decodeJson('ip route show table all', t.array(IpRoute, 'routes'), text));

export const decodeNeighbours = (text: string | undefined): E.Either<DecodeError, readonly Neighbour[]> =>
  E.map((ns: t.TypeOf<typeof IpNeigh>[]) =>
    ns.map((n): Neighbour => ({ dst: n.dst, dev: n.dev, lladdr: n.lladdr, state: n.state ?? [] })),
  )(decodeJson('ip neigh show', t.array(IpNeigh, 'neighbours'), text));

/** The scan's three JSON documents, in the order the scan asks for them. */
export const SCAN_COMMANDS: readonly (readonly string[])[] = [['addr', 'show'], ['route', 'show', 'table', 'all'], ['neigh', 'show']];

export interface ScanDocs {
  readonly links: readonly Link[];
  readonly routes: readonly Route[];
  readonly neighbours: readonly Neighbour[];
}

export const decodeScanOutput = (docs: readonly string[]): E.Either<DecodeError, ScanDocs> => {
  const links = decodeLinks(docs[0]);
  const routes = decodeRoutes(docs[1]);
  const neighbours = decodeNeighbours(docs[2]);
  if (E.isLeft(links)) return links;
  if (E.isLeft(routes)) return routes;
  if (E.isLeft(neighbours)) return neighbours;
  return E.right({ links: links.right, routes: routes.right, neighbours: neighbours.right });
};
