// Pure: what the guest must be told so the VM "becomes the pod" - each NIC's
// MAC, addresses and MTU, and exactly the routing the pod had through those
// links. The kernel's own routes are told too, marked `kernel`: the guest
// does not add them but checks it has them, and an address gets
// noprefixroute where the pod had no kernel route for its prefix (a ptp
// plugin replaces that route with one through the gateway).
import type { Link, Route, Snapshot } from '@tapwire/endpoints';
import type { GuestAddress, GuestConfig, GuestNic, GuestRoute } from '../guest/index.js';
import { cidrContains, isIpv6LinkLocal, networkOf, parseCidr, parseIp, sameCidr, type ParsedCidr } from '../guest/ip.js';

/** The guest NIC this VM gets for one pod link. */
export interface PodNic {
  readonly link: Link;
  readonly mac: string;
  readonly mtu: number;
}

/** All a scan's snapshot needs to hold here. */
export type PodRoutes = Pick<Snapshot, 'routes'>;

const SIMPLE_IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** The metric the kernel gives the prefix routes it makes (an address added without one). */
const KERNEL_METRIC = { inet: 0, inet6: 256 } as const;
const LINK_LOCAL_NET = parseCidr('fe80::/64');

const isLinkLocal = (addr: string): boolean => addr.toLowerCase().startsWith('fe80:');

const isMainUnicast = (r: Route): boolean => (r.table ?? 'main') === 'main' && (r.type ?? 'unicast') === 'unicast';

const dstOf = (r: Route): ParsedCidr | undefined => {
  const host = r.family === 'inet6' ? 128 : 32;
  return parseCidr(r.dst === 'default' ? (r.family === 'inet6' ? '::/0' : '0.0.0.0/0') : r.dst.includes('/') ? r.dst : `${r.dst}/${host}`);
};

const isLinkLocalNet = (r: Route): boolean => {
  const dst = dstOf(r);
  return dst !== undefined && LINK_LOCAL_NET !== undefined && sameCidr(dst, LINK_LOCAL_NET);
};

/** The addresses the guest gets for a pod link: global ones (link-local ones are the guest kernel's own). */
const globalAddresses = (link: Link): ParsedCidr[] =>
  link.addresses
    .filter((a) => a.scope !== 'link' && a.scope !== 'host' && !isLinkLocal(a.local))
    .flatMap((a) => parseCidr(`${a.local}/${a.prefixlen}`) ?? []);

/**
 * A route the guest kernel makes again by itself: the prefix route of an
 * address the guest gets, or fe80::/64 of its link-local address - with the
 * kernel's metric (the guest's busybox ip cannot give an address a metric).
 */
const kernelMade = (r: Route, addresses: readonly ParsedCidr[]): boolean => {
  const dst = dstOf(r);
  if (r.protocol !== 'kernel' || r.gateway !== undefined || dst === undefined || (r.metric ?? 0) !== KERNEL_METRIC[r.family]) return false;
  if (isLinkLocalNet(r)) return true;
  return addresses.some((a) => sameCidr(networkOf(a), dst));
};

interface NicRoutes {
  readonly nic: PodNic;
  readonly addresses: readonly ParsedCidr[];
  readonly routes: readonly Route[];
  readonly kernel: readonly Route[];
}

const routesOf = (snap: PodRoutes, nic: PodNic): NicRoutes => {
  const addresses = globalAddresses(nic.link);
  const routes = snap.routes.filter((r) => isMainUnicast(r) && r.dev === nic.link.name && dstOf(r) !== undefined);
  return { nic, addresses, routes, kernel: routes.filter((r) => kernelMade(r, addresses)) };
};

const guestNic = ({ nic, addresses, kernel }: NicRoutes): GuestNic => {
  const hasKernelRoute = (net: ParsedCidr): boolean => kernel.some((r) => {
    const dst = dstOf(r);
    return dst !== undefined && sameCidr(dst, net);
  });
  return {
    mac: nic.mac,
    addresses: addresses.map((a): string | GuestAddress => {
      // The kernel makes no prefix route for an IPv4 /32 anyway.
      const makesOne = a.ip.family === 6 || a.prefix < 32;
      return makesOne && !hasKernelRoute(networkOf(a)) ? { cidr: a.text, noPrefixRoute: true } : a.text;
    }),
    mtu: nic.mtu,
    // The guest renames its NIC to the pod's name only when the name is plain;
    // odd names stay the guest's own (the kernel cmdline cannot carry them safely).
    ...(SIMPLE_IFNAME.test(nic.link.name) ? { name: nic.link.name } : {}),
    ...(LINK_LOCAL_NET !== undefined && hasKernelRoute(LINK_LOCAL_NET) ? {} : { linkLocal: false }),
  };
};

/** The metric the guest assumes when none is given: the kernel's own defaults. */
const defaultMetric = (r: Route, kernel: boolean): number => (r.family === 'inet' ? 0 : kernel ? 256 : 1024);

/**
 * The kernel takes a gateway only where a route without one on the same link
 * covers it, unless the route is onlink. The scan keeps no route flags, so
 * onlink is read off the pod's table: a gateway nothing on its link covers
 * can only have been added onlink. fe80:: gateways are always on-link.
 */
const needsOnlink = (r: Route, linkRoutes: readonly Route[]): boolean => {
  const gw = r.gateway === undefined ? undefined : parseIp(r.gateway);
  if (gw === undefined || isIpv6LinkLocal(gw)) return false;
  return !linkRoutes.some((l) => {
    const dst = l.gateway === undefined ? dstOf(l) : undefined;
    return dst !== undefined && cidrContains(dst, gw);
  });
};

const guestRoute = (r: Route, nic: PodNic, kernel: boolean, onlink = false): GuestRoute => {
  const dst = dstOf(r);
  // Defaults stay off the line: its 2047 bytes are shared by every route of every NIC.
  const metric = r.metric ?? 0;
  return {
    dst: dst === undefined ? r.dst : networkOf(dst).text,
    ...(r.gateway === undefined ? {} : { via: r.gateway }),
    dev: nic.mac,
    ...(r.prefsrc === undefined ? {} : { src: r.prefsrc }),
    ...(metric === defaultMetric(r, kernel) ? {} : { metric }),
    ...(r.scope === 'link' || r.scope === 'host' ? { scope: r.scope } : {}),
    ...(onlink ? { onlink: true } : {}),
    ...(kernel ? { kernel: true } : {}),
  };
};

/**
 * Every main-table unicast route of the pod's links, in an order the guest
 * can add them in: the kernel's first (they come with the addresses), then
 * routes without a gateway, then those through one (a gateway must be
 * reachable when its route is added; ip lists `default via` first).
 */
const guestRoutes = (all: readonly NicRoutes[]): GuestRoute[] => {
  const kernel: GuestRoute[] = [];
  const direct: GuestRoute[] = [];
  const viaGateway: GuestRoute[] = [];
  for (const { nic, routes, kernel: made } of all) {
    for (const r of routes) {
      // The guest expects fe80::/64 on every NIC with a link-local address by itself.
      if (made.includes(r) && isLinkLocalNet(r)) continue;
      if (made.includes(r)) kernel.push(guestRoute(r, nic, true));
      else if (r.gateway === undefined) direct.push(guestRoute(r, nic, false));
      else viaGateway.push(guestRoute(r, nic, false, needsOnlink(r, routes)));
    }
  }
  return [...kernel, ...direct, ...viaGateway];
};

export const guestConfigFor = (snap: PodRoutes, nics: readonly PodNic[], ping: readonly string[]): GuestConfig => {
  const all = nics.map((n) => routesOf(snap, n));
  return { nics: all.map(guestNic), routes: guestRoutes(all), exactRouting: true, ping };
};

/**
 * The pod's routes the guest is not told, as ip would name them: other
 * tables (policy routing needs rules the guest does not get), routes that
 * are not unicast, routes through links the VM does not get. For a note.
 */
export const routesNotReplayed = (snap: PodRoutes, nics: readonly PodNic[]): string[] => {
  const names = new Set(nics.map((n) => n.link.name));
  return snap.routes
    .filter((r) => (r.table ?? 'main') !== 'local' && r.dev !== 'lo' && r.type !== 'multicast')
    .filter((r) => !(isMainUnicast(r) && r.dev !== undefined && names.has(r.dev)))
    .map((r) =>
      [r.type ?? '', r.dst, r.gateway === undefined ? '' : `via ${r.gateway}`, r.dev === undefined ? '' : `dev ${r.dev}`, r.table === undefined ? '' : `table ${r.table}`]
        .filter((w) => w !== '')
        .join(' '),
    );
};
