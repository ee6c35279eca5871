// What a person scripts by hand to do what `attach --all --model tcfilter`
// does: the same ip/tc operations, in the same order, with the same alias
// (so the kernel does the same work). hand-commands.test.ts checks them
// against netmodel's plan and detachAll, so baselines (b) and (c) cannot
// drift from (a).
import type { Link } from '@tapwire/endpoints';
import { DETACH_GROUP, defaultTapName, encodeRecord } from '@tapwire/netmodel';

export type Argv = readonly string[];

export interface HandCommands {
  readonly ip: readonly Argv[];
  readonly tc: readonly Argv[];
}

const redirect = (from: string, to: string): Argv => [
  'filter', 'add', 'dev', from, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u8', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', to,
];

/** Attach one link: make the tap, record, MTU, up (ip); ingress qdiscs and redirects both ways (tc). */
export const attachCommands = (link: Link, queues: number): HandCommands => {
  const tap = defaultTapName(link.ifindex);
  const alias = encodeRecord({ model: 'tcfilter', ifindex: link.ifindex, queues, mac: link.mac ?? '', addresses: [], routes: [] });
  return {
    ip: [
      ['tuntap', 'add', 'dev', tap, 'mode', 'tap', 'vnet_hdr', ...(queues > 1 ? ['multi_queue'] : [])],
      ['link', 'set', 'dev', tap, 'alias', alias],
      ['link', 'set', 'dev', tap, 'mtu', String(link.mtu)],
      ['link', 'set', 'dev', tap, 'up'],
    ],
    tc: [['qdisc', 'add', 'dev', link.name, 'ingress'], ['qdisc', 'add', 'dev', tap, 'ingress'], redirect(link.name, tap), redirect(tap, link.name)],
  };
};

/**
 * Detach every link: each link's ingress qdisc (the filters go with it), then
 * the taps (their qdiscs go with them). Like netmodel's detach, two or more
 * taps are moved into DETACH_GROUP and deleted in one request: the kernel
 * unregisters them together instead of paying ~25-40 ms a device.
 */
export const detachCommands = (links: readonly Link[]): HandCommands => {
  const taps = links.map((l) => defaultTapName(l.ifindex));
  const group = String(DETACH_GROUP);
  return {
    tc: links.map((l) => ['qdisc', 'del', 'dev', l.name, 'ingress']),
    ip: taps.length < 2 ? taps.map((t) => ['link', 'del', 'dev', t]) : [...taps.map((t) => ['link', 'set', 'dev', t, 'group', group]), ['link', 'del', 'group', group]],
  };
};

/** The links a hand script wires: every veth (its own scan has no classifier). */
export const handTargets = (links: readonly Link[]): readonly Link[] => links.filter((l) => l.kind === 'veth');
