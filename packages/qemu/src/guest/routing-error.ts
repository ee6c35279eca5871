// A guest that could not end with the routing it was told: which route, and
// what went wrong with it. The verdict of a launch depends on this, not on
// whether the pings happened to pass anyway.
import type { GuestReport } from './console.js';

export interface GuestRouteProblem {
  /** The route as `ip route` would name it, family first: `IPv4 10.1.0.0/24 via 10.1.0.1 dev eth0 ...`. */
  readonly route: string;
  /** not-added: `ip route add` refused it; missing: told but not there; extra: there but not told. */
  readonly problem: 'not-added' | 'missing' | 'extra';
  readonly detail: string;
}

export interface GuestRoutingFailed {
  readonly _tag: 'GuestRoutingFailed';
  readonly problems: readonly GuestRouteProblem[];
}

const ADD_FAILED = /^ip -([46]) route add (.+?): (.*)$/;

/** The routing problems the guest reported, or undefined when its routing is exactly what it was told. */
export const guestRoutingError = (report: GuestReport): GuestRoutingFailed | undefined => {
  const problems: GuestRouteProblem[] = [];
  for (const r of report.routes) {
    if (r._tag !== 'RouteFail') continue;
    const m = ADD_FAILED.exec(r.detail);
    problems.push(
      m === null
        ? { route: r.dst, problem: 'not-added', detail: r.detail }
        : { route: `IPv${m[1] ?? '?'} ${m[2] ?? r.dst}`, problem: 'not-added', detail: m[3] ?? r.detail },
    );
  }
  for (const e of report.errors) {
    if (e.code === 'route-missing') problems.push({ route: e.detail, problem: 'missing', detail: 'told to the guest but not in its routing table' });
    if (e.code === 'route-extra') problems.push({ route: e.detail, problem: 'extra', detail: 'in the guest routing table but not in the pod' });
  }
  if (problems.length === 0 && report.routing !== undefined && !report.routing.ok) {
    problems.push({ route: '(routing table)', problem: 'missing', detail: `the guest reported a mismatch (missing ${report.routing.missing}, extra ${report.routing.extra})` });
  }
  return problems.length === 0 ? undefined : { _tag: 'GuestRoutingFailed', problems };
};

const WHAT: Record<GuestRouteProblem['problem'], string> = {
  'not-added': 'could not be added',
  missing: 'is missing',
  extra: 'should not be there',
};

export const describeGuestRoutingError = (e: GuestRoutingFailed): string =>
  `the guest does not have the pod's routing: ${e.problems.map((p) => `route ${p.route} ${WHAT[p.problem]} (${p.detail})`).join('; ')}`;
