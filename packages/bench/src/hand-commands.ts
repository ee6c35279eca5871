// What a person scripts by hand to do what `attach --all --model tcfilter`
// does: the same ip/tc operations, in the same order, with the same alias
// (so the kernel does the same work). hand-commands.test.ts checks them
// against netmodel's plan and detachAll, so baselines (b) and (c) cannot
// drift from (a).
import type { Link } from '@tapwire/endpoints';
import { DETACH_GROUP, defaultTapName, encodeRecord, processOwnership, txqlenToKeep } from '@tapwire/netmodel';

export type Argv = readonly string[];

export interface HandCommands {
  readonly ip: readonly Argv[];
  readonly tc: readonly Argv[];
}

const redirect = (from: string, to: string): Argv => [
  'filter', 'add', 'dev', from, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u8', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', to,
];

/** `user U group G`: the owner netmodel gives a tap by default (this process's euid/egid), so (b) and (c) make the same device. */
const ownerWords = (): Argv => {
  const { owner, group } = processOwnership();
  return [...(owner === undefined ? [] : ['user', String(owner)]), ...(group === undefined ? [] : ['group', String(group)])];
};

/** One ip or tc batch of a hand script, as a phase of netmodel's plan. */
export interface HandPhase {
  readonly tool: 'ip' | 'tc';
  readonly argv: readonly Argv[];
}

/**
 * Attach one link: make the tap, record, (note the txqueuelen,) MTU (ip);
 * the tap's noqueue root, ingress qdiscs and redirects both ways (tc); up (ip).
 */
export const attachCommands = (link: Link, queues: number): readonly HandPhase[] => {
  const tap = defaultTapName(link.ifindex);
  const txqlen = txqlenToKeep(link);
  const alias = encodeRecord({ model: 'tcfilter', ifindex: link.ifindex, queues, mac: link.mac ?? '', addresses: [], routes: [], ...(txqlen === undefined ? {} : { txqlen }) });
  return [
    {
      tool: 'ip',
      argv: [
        ['tuntap', 'add', 'dev', tap, 'mode', 'tap', 'vnet_hdr', ...(queues > 1 ? ['multi_queue'] : []), ...ownerWords()],
        ['link', 'set', 'dev', tap, 'alias', alias],
        // A no-op here; what makes it tapwire's sequence is that detach sets it back.
        ...(txqlen === undefined ? [] : [['link', 'set', 'dev', link.name, 'txqueuelen', String(txqlen)]]),
        ['link', 'set', 'dev', tap, 'mtu', String(link.mtu)],
      ],
    },
    { tool: 'tc', argv: [['qdisc', 'add', 'dev', tap, 'root', 'handle', '1:', 'noqueue'], ['qdisc', 'add', 'dev', link.name, 'ingress'], ['qdisc', 'add', 'dev', tap, 'ingress'], redirect(link.name, tap), redirect(tap, link.name)] },
    { tool: 'ip', argv: [['link', 'set', 'dev', tap, 'up']] },
  ];
};

/** Phase k of every link's commands together, in link order: one batch per phase (c). */
export const mergedPhases = (perLink: readonly (readonly HandPhase[])[]): readonly HandPhase[] => {
  const depth = Math.max(0, ...perLink.map((p) => p.length));
  return Array.from({ length: depth }, (_, k) => ({ tool: perLink[0]?.[k]?.tool ?? 'ip', argv: perLink.flatMap((p) => p[k]?.argv ?? []) }));
};

/**
 * Detach every link (as scanned before attach): each link's ingress qdisc (the
 * filters go with it), then a txqueuelen the qdisc raised set back, then the
 * taps (their qdiscs go with them). Like netmodel's detach, two or more taps
 * are moved into DETACH_GROUP and deleted in one request: the kernel
 * unregisters them together instead of paying ~25-40 ms a device.
 */
export const detachCommands = (links: readonly Link[]): HandCommands => {
  const taps = links.map((l) => defaultTapName(l.ifindex));
  const group = String(DETACH_GROUP);
  const restores = links.flatMap((l): Argv[] => {
    const txqlen = txqlenToKeep(l);
    return txqlen === undefined ? [] : [['link', 'set', 'dev', l.name, 'txqueuelen', String(txqlen)]];
  });
  return {
    tc: links.map((l) => ['qdisc', 'del', 'dev', l.name, 'ingress']),
    ip: [...restores, ...(taps.length < 2 ? taps.map((t) => ['link', 'del', 'dev', t]) : [...taps.map((t) => ['link', 'set', 'dev', t, 'group', group]), ['link', 'del', 'group', group]])],
  };
};

/** The links a hand script wires: every veth (its own scan has no classifier). */
export const handTargets = (links: readonly Link[]): readonly Link[] => links.filter((l) => l.kind === 'veth');
