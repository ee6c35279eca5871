// The argv words that re-create an endpoint's addresses and routes: what
// model macvtap removes, records in the alias, and detach puts back.
import type { Address, Route } from '@tapwire/endpoints';
import type { Argv } from './model.js';

/** `ip addr add` words re-creating one address (without `dev`). */
export const addressWords = (a: Address): Argv => [
  `${a.local}/${a.prefixlen}`,
  ...(a.broadcast === undefined ? [] : ['broadcast', a.broadcast]),
  ...(a.scope === 'global' ? [] : ['scope', a.scope]),
];

/**
 * Re-adding an address the link already held. IPv6 ones skip duplicate
 * address detection: the address was validated when first configured, and
 * while DAD runs the kernel withholds its local route, so the netns would
 * not be as found for a second or two after detach.
 */
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
export const routeWords = (r: Route): Argv => [
  ...(r.type === undefined || r.type === 'unicast' ? [] : [r.type]),
  r.dst === 'default' ? (r.family === 'inet6' ? '::/0' : '0.0.0.0/0') : r.dst,
  ...(r.gateway === undefined ? [] : ['via', r.gateway]),
  ...(r.table === undefined || r.table === 'main' ? [] : ['table', r.table]),
  ...(r.protocol === undefined || r.protocol === 'boot' ? [] : ['proto', r.protocol]),
  ...(r.scope === undefined ? [] : ['scope', r.scope]),
  ...(r.prefsrc === undefined ? [] : ['src', r.prefsrc]),
  ...(r.metric === undefined ? [] : ['metric', String(r.metric)]),
];
