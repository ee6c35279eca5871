// One shape for a route, whoever printed it: the guest's busybox `ip route`
// (TAPWIRE-RT lines) and the pod's iproute2 JSON (a scan's Route). Only what
// decides forwarding is kept - destination, gateway, device, preferred
// source, metric, scope, onlink - so the two can be compared as sets.
import type { Route } from '@tapwire/endpoints';
import { formatIp, parseCidr, parseIp } from './ip.js';

export interface RoutingEntry {
  readonly family: 4 | 6;
  /** `default`, or ADDR/PREFIX in inet_ntop form with /32 and /128 dropped (as ip prints it). */
  readonly dst: string;
  readonly via: string | undefined;
  readonly dev: string | undefined;
  readonly src: string | undefined;
  readonly metric: number;
  /** global, link, host (or a number ip could not name). */
  readonly scope: string;
  readonly onlink: boolean;
}

const NOT_UNICAST = /^(local|broadcast|multicast|anycast|blackhole|unreachable|prohibit|throw|nat)$/;
/** Keywords ip prints with one value that does not decide forwarding here. */
const SKIPPED_WITH_VALUE = new Set(['proto', 'table', 'mtu', 'advmss', 'hoplimit', 'expires', 'pref', 'realm', 'realms', 'window', 'rtt', 'rttvar', 'ssthresh', 'cwnd', 'initcwnd', 'initrwnd', 'quickack', 'features', 'congctl', 'error']);

/** ip's text for an address, or the input when it is not one. */
const canonicalIp = (s: string): string => {
  const ip = parseIp(s);
  return ip === undefined ? s : formatIp(ip);
};

export const canonicalDst = (dst: string): string => {
  if (dst === 'default' || dst === '0.0.0.0/0' || dst === '::/0') return 'default';
  const c = parseCidr(dst.includes('/') ? dst : `${dst}/${dst.includes(':') ? 128 : 32}`);
  if (c === undefined) return dst;
  const text = formatIp(c.ip);
  return c.prefix === (c.ip.family === 4 ? 32 : 128) ? text : `${text}/${c.prefix}`;
};

/**
 * One line of `ip route show` (busybox or iproute2 text, blanks squeezed or
 * not); undefined for a route that is not unicast or a multipath nexthop.
 */
export const parseRouteText = (family: 4 | 6, line: string): RoutingEntry | undefined => {
  const w = line.trim().split(/\s+/);
  let i = 0;
  if (w[0] === 'nexthop' || NOT_UNICAST.test(w[0] ?? '')) return undefined;
  if (w[0] === 'unicast') i = 1;
  const dst = w[i++];
  if (dst === undefined || dst === '') return undefined;
  let via: string | undefined;
  let dev: string | undefined;
  let src: string | undefined;
  let metric = 0;
  let scope = 'global';
  let onlink = false;
  for (; i < w.length; i++) {
    const word = w[i] ?? '';
    const next = (): string => w[++i] ?? '';
    if (word === 'via') {
      // iproute2 may write `via inet6 ADDR` for a gateway of the other family.
      const v = next();
      via = canonicalIp(v === 'inet' || v === 'inet6' ? next() : v);
    } else if (word === 'dev') dev = next();
    else if (word === 'src') src = canonicalIp(next());
    else if (word === 'metric') metric = Number(next());
    else if (word === 'scope') scope = next();
    else if (word === 'onlink') onlink = true;
    else if (SKIPPED_WITH_VALUE.has(word)) i++;
  }
  return { family, dst: canonicalDst(dst), via, dev, src, metric, scope: scope === 'universe' ? 'global' : scope, onlink };
};

/** A pod's route in the same shape; undefined outside the main table or when not unicast. */
export const routingEntryOf = (r: Route): RoutingEntry | undefined => {
  if ((r.table ?? 'main') !== 'main' || (r.type ?? 'unicast') !== 'unicast') return undefined;
  return {
    family: r.family === 'inet6' ? 6 : 4,
    dst: canonicalDst(r.dst),
    via: r.gateway === undefined ? undefined : canonicalIp(r.gateway),
    dev: r.dev,
    src: r.prefsrc === undefined ? undefined : canonicalIp(r.prefsrc),
    metric: r.metric ?? 0,
    scope: r.scope === undefined || r.scope === 'universe' ? 'global' : r.scope,
    // The scan's decoder keeps no route flags (onlink among them).
    onlink: false,
  };
};

/** As `ip route` would print it, IPv4/IPv6 first. */
export const describeRoutingEntry = (e: RoutingEntry): string =>
  [
    `IPv${e.family} ${e.dst}`,
    ...(e.via === undefined ? [] : [`via ${e.via}`]),
    ...(e.dev === undefined ? [] : [`dev ${e.dev}`]),
    ...(e.src === undefined ? [] : [`src ${e.src}`]),
    `metric ${e.metric}`,
    ...(e.scope === 'global' ? [] : [`scope ${e.scope}`]),
    ...(e.onlink ? ['onlink'] : []),
  ].join(' ');

/** Sorted descriptions: two routing tables are the same when these are equal. */
export const routingTable = (entries: readonly (RoutingEntry | undefined)[]): string[] =>
  entries.flatMap((e) => (e === undefined ? [] : [describeRoutingEntry(e)])).sort();
