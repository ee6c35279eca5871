// The pod's netns, as a CRI runtime makes the sandbox's: `ip netns add`
// (a bind mount under /run/netns), loopback up; deleted on down or undo.
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns, run, type NetnsHandle } from '@tapwire/sys';
import type { PodError } from './errors.js';

export const addPodNetns = async (name: string): Promise<E.Either<PodError, NetnsHandle>> => {
  const added = await run(['ip', 'netns', 'add', name])();
  if (E.isLeft(added)) return E.left({ _tag: 'Sys', what: `making netns ${name}`, cause: added.left });
  const ns = resolveNetns(name);
  if (E.isLeft(ns)) return E.left({ _tag: 'Sys', what: `opening netns ${name}`, cause: ns.left });
  const lo = await run(['ip', 'link', 'set', 'lo', 'up'], { netns: ns.right })();
  if (E.isLeft(lo)) {
    await delPodNetns(name);
    return E.left({ _tag: 'Sys', what: `bringing lo up in ${name}`, cause: lo.left });
  }
  return E.right(ns.right);
};

export const delPodNetns = async (name: string): Promise<E.Either<PodError, void>> => {
  if (E.isLeft(resolveNetns(name))) return E.right(undefined); // gone already
  const r = await run(['ip', 'netns', 'del', name])();
  return E.isLeft(r) ? E.left({ _tag: 'Sys', what: `deleting netns ${name}`, cause: r.left }) : E.right(undefined);
};

/** Multus's SetDefaultGW for a `default-route` selection: the pod's default route goes via ifname. */
export const setDefaultRoutes = async (ns: NetnsHandle, ifname: string, gateways: readonly string[]): Promise<E.Either<PodError, void>> => {
  for (const gw of gateways) {
    const r = await run(['ip', ...(gw.includes(':') ? ['-6'] : []), 'route', 'replace', 'default', 'via', gw, 'dev', ifname], { netns: ns })();
    if (E.isLeft(r)) return E.left({ _tag: 'Sys', what: `setting the default route via ${gw} dev ${ifname}`, cause: r.left });
  }
  return E.right(undefined);
};
