// Lookups into a NetnsView by name and ifindex, built once per view: attach
// decides every endpoint of a pod against the same view, and a search of the
// whole view per endpoint made a 256-link attach spend ~20 ms deciding.
import type { Link } from '@tapwire/endpoints';
import { perView } from './per-view.js';
import type { NetnsView } from './state.js';
import { isIngress } from './tc-json.js';

export interface ViewIndex {
  readonly linkByName: ReadonlyMap<string, Link>;
  readonly linkByIfindex: ReadonlyMap<number, Link>;
  /** Devices with an ingress qdisc. */
  readonly withIngress: ReadonlySet<string>;
}

/** First wins, as Array.find would. */
const byKey = <K, V>(items: readonly V[], key: (v: V) => K): Map<K, V> => {
  const m = new Map<K, V>();
  for (const v of items) if (!m.has(key(v))) m.set(key(v), v);
  return m;
};

export const viewIndex: (view: NetnsView) => ViewIndex = perView((view) => ({
  linkByName: byKey(view.links, (l) => l.name),
  linkByIfindex: byKey(view.links, (l) => l.ifindex),
  withIngress: new Set(view.qdiscs.flatMap((q) => (q.dev !== undefined && isIngress(q) ? [q.dev] : []))),
}));
