// The argv words that re-create an endpoint's addresses and routes: what
// model macvtap removes, records in the alias, and detach puts back.
import type { Address, Route } from '@tapwire/endpoints';
import type { Argv } from './model.js';
import { addrWords, routeSpecWords, type Action, type AddrSpec, type RouteSpec } from './action.js';

/** An endpoint's address as op data. */
export const addrSpec = (a: Address): AddrSpec => ({ local: a.local, prefixlen: a.prefixlen, scope: a.scope, ...(a.broadcast === undefined ? {} : { broadcast: a.broadcast }) });

/** An endpoint's route as op data (without its device). */
export const routeSpec = (r: Route): RouteSpec => ({
  family: r.family,
  dst: r.dst,
  ...(r.type === undefined ? {} : { type: r.type }),
  ...(r.gateway === undefined ? {} : { gateway: r.gateway }),
  ...(r.table === undefined ? {} : { table: r.table }),
  ...(r.protocol === undefined ? {} : { protocol: r.protocol }),
  ...(r.scope === undefined ? {} : { scope: r.scope }),
  ...(r.prefsrc === undefined ? {} : { prefsrc: r.prefsrc }),
  ...(r.metric === undefined ? {} : { metric: r.metric }),
});

/**
 * Re-adding an address the link already held. IPv6 ones skip duplicate
 * address detection: the address was validated when first configured, and
 * while DAD runs the kernel withholds its local route, so the netns would
 * not be as found for a second or two after detach.
 */
export const readdAddress = (addr: AddrSpec, dev: string): Action => ({ _tag: 'AddrAdd', dev, addr, nodad: addr.local.includes(':') });

/** `ip addr add` words re-creating one address (without `dev`). */
export const addressWords = (a: Address): Argv => addrWords(addrSpec(a));

/** readdAddress as argv, from record words (detach reads them from the alias). */
export const readdAddressArgv = (words: Argv, dev: string): Argv => [
  'addr',
  'add',
  ...words,
  ...((words[0] ?? '').includes(':') ? ['nodad'] : []),
  'dev',
  dev,
];

/** Routes through the link that a user or daemon made (kernel ones come back with the addresses). */
export const restorableRoutes = (routes: readonly Route[], link: string): readonly Route[] =>
  routes.filter((r) => r.dev === link && r.protocol !== 'kernel' && r.table !== 'local');

/** `ip route replace` words re-creating one route (without `dev`). */
export const routeWords = (r: Route): Argv => routeSpecWords(routeSpec(r));
