// `tapwire inspect --dot`: a pod's wiring as a Graphviz digraph, for the
// person debugging a pod. Pure: classified endpoints + tc ingress filters in,
// DOT text out (no I/O, same input -> same text). Drawn: every link of the
// netns (kind, MAC, addresses; greyed with the reason when not attachable),
// lower devices (macvtap/macvlan/vlan parents, veth peers in other netns),
// bridge ports, tc mirred redirects, the devices tapwire made (their alias
// says for which link), and the VM NIC each attachable link becomes: net<i>
// in endpoint order, as the launcher numbers them (qemu's vmNicsOf).
import * as E from 'fp-ts/lib/Either.js';
import { TAPWIRE_ALIAS_PREFIX, type Endpoint } from '@tapwire/endpoints';
import { decodeRecord } from '@tapwire/netmodel';

/** What `tc -j filter show dev X ingress` says; only the redirect fields are read. */
export interface FilterLike {
  readonly options?: {
    readonly actions?: readonly { readonly kind?: string; readonly mirred_action?: string; readonly direction?: string; readonly to_dev?: string }[];
  };
}

export interface WiringInput {
  /** How the netns was named on the command line (the graph's title). */
  readonly netns: string;
  readonly endpoints: readonly Endpoint[];
  /** Ingress filters by device name (netmodel's NetnsView.filters); {} when unknown. */
  readonly filters: Readonly<Record<string, readonly FilterLike[]>>;
}

export interface Redirect {
  readonly from: string;
  readonly to: string;
}

/** Packets arriving on `from` leave on `to` (u32 match-all + mirred egress redirect, what tcfilter makes). */
export const redirectsOf = (filters: WiringInput['filters']): Redirect[] =>
  Object.entries(filters).flatMap(([from, fs]) =>
    fs.flatMap((f) =>
      (f.options?.actions ?? []).flatMap((a) =>
        a.kind === 'mirred' && a.mirred_action === 'redirect' && a.direction === 'egress' && a.to_dev !== undefined ? [{ from, to: a.to_dev }] : [],
      ),
    ),
  ).filter((r, i, all) => all.findIndex((x) => x.from === r.from && x.to === r.to) === i);

/** A DOT double-quoted string: quotes and backslashes escaped, newlines as \n, other controls dropped. */
export const dotString = (s: string): string =>
  `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n').replace(/[\u0000-\u001f\u007f]/g, '')}"`;

const isTapwireAlias = (alias: string | undefined): alias is string => alias?.startsWith(TAPWIRE_ALIAS_PREFIX) === true;

const linkId = (name: string): string => dotString(`link:${name}`);
const nicId = (i: number): string => dotString(`nic:net${i}`);

interface NicOf {
  readonly index: number;
  readonly endpoint: Endpoint;
  /** The device whose fds or socket the VM gets (a tapwire tap/macvtap, the link itself, or none yet). */
  readonly via: string | undefined;
  readonly how: string;
}

/** The device tapwire made for each attached link (by the ifindex its alias records). */
const madeFor = (endpoints: readonly Endpoint[]): Map<number, { name: string; model: string; queues: number }> => {
  const out = new Map<number, { name: string; model: string; queues: number }>();
  for (const e of endpoints) {
    const alias = e.link.alias;
    if (!isTapwireAlias(alias)) continue;
    const r = decodeRecord(alias);
    if (E.isRight(r)) out.set(r.right.ifindex, { name: e.link.name, model: r.right.model, queues: r.right.queues });
  }
  return out;
};

const nicsOf = (endpoints: readonly Endpoint[]): NicOf[] => {
  const made = madeFor(endpoints);
  return endpoints
    .filter((e) => e.skipped === undefined)
    .map((e, index): NicOf => {
      const m = made.get(e.link.ifindex);
      if (e.kind === 'physical') return { index, endpoint: e, via: e.link.name, how: `VFIO ${e.pci.bdf}` };
      if (e.kind === 'vhost-user') return { index, endpoint: e, via: e.link.name, how: `vhost-user ${e.socket}` };
      if (m !== undefined) return { index, endpoint: e, via: m.name, how: `${m.model}: ${m.queues} queue fd${m.queues === 1 ? '' : 's'}` };
      if (e.kind === 'tap') return { index, endpoint: e, via: e.link.name, how: 'tap handed over as is' };
      return { index, endpoint: e, via: undefined, how: 'after attach' };
    });
};

/** A tapwire device says for which link (its alias record); anything else says why it is not attachable. */
const whyLine = (e: Endpoint, byIndex: ReadonlyMap<number, string>): string[] => {
  if (isTapwireAlias(e.link.alias)) {
    const r = decodeRecord(e.link.alias);
    if (E.isRight(r)) return [`made by tapwire for ${byIndex.get(r.right.ifindex) ?? `ifindex ${r.right.ifindex}`} (${r.right.model}, ${r.right.queues} queue${r.right.queues === 1 ? '' : 's'})`];
  }
  return e.skipped === undefined ? [] : [`not attachable: ${e.skipped}`];
};

const linkLabel = (e: Endpoint, byIndex: ReadonlyMap<number, string>): string => {
  const l = e.link;
  const addrs = l.addresses.map((a) => `${a.local}/${a.prefixlen}`);
  return [
    l.name,
    `${e.kind}${l.kind !== undefined && l.kind !== e.kind ? ` (${l.kind})` : ''}, mtu ${l.mtu}`,
    ...(l.mac === undefined ? [] : [l.mac]),
    ...addrs.slice(0, 4),
    ...(addrs.length > 4 ? [`+${addrs.length - 4} more`] : []),
    ...whyLine(e, byIndex),
  ].join('\n');
};

const SHAPE: Readonly<Partial<Record<Endpoint['kind'], string>>> = { tap: 'cds', tuntap: 'cds', macvtap: 'cds', loopback: 'plaintext', physical: 'box3d' };

const linkNode = (byIndex: ReadonlyMap<number, string>) => (e: Endpoint): string => {
  const made = isTapwireAlias(e.link.alias);
  const attrs = [
    `label=${dotString(linkLabel(e, byIndex))}`,
    `shape=${SHAPE[e.kind] ?? 'box'}`,
    ...(made ? ['style="filled"', 'fillcolor="lightyellow"', `tooltip=${dotString(`made by tapwire: ${e.link.alias ?? ''}`)}`] : []),
    ...(e.skipped !== undefined && !made ? ['color="gray50"', 'fontcolor="gray40"', 'style="dashed"'] : []),
  ];
  return `    ${linkId(e.link.name)} [${attrs.join(', ')}];`;
};

/** The pod's wiring as DOT text. */
export const renderDot = (input: WiringInput): string => {
  const { endpoints } = input;
  const names = new Set(endpoints.map((e) => e.link.name));
  const nics = nicsOf(endpoints);
  const lines: string[] = [
    `digraph ${dotString(`tapwire ${input.netns}`)} {`,
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
    `  subgraph "cluster_netns" {`,
    `    label=${dotString(`netns ${input.netns}`)};`,
    '    style="rounded";',
    ...endpoints.map(linkNode(new Map(endpoints.map((e) => [e.link.ifindex, e.link.name])))),
    '  }',
  ];
  // Lower devices and peers that live in another netns: one node each, outside the pod.
  const outside = new Map<string, string>();
  const drawnPairs = new Set<string>();
  for (const e of endpoints) {
    const p = e.link.parent;
    if (p === undefined) continue;
    if (p.name !== undefined && names.has(p.name) && !p.otherNetns) {
      // A veth pair inside the pod names each other: one edge for the pair.
      const pair = [p.name, e.link.name].sort().join('\u0000');
      if (drawnPairs.has(pair)) continue;
      drawnPairs.add(pair);
      lines.push(`  ${linkId(p.name)} -> ${linkId(e.link.name)} [label=${dotString(e.link.kind === 'veth' ? 'veth peer' : 'lower device')}, style="dashed", arrowhead="none"];`);
      continue;
    }
    const key = `ext:${p.netnsid ?? '?'}:${p.ifindex ?? p.name ?? '?'}`;
    if (!outside.has(key)) {
      const where = p.otherNetns ? `other netns${p.netnsid === undefined ? '' : ` (id ${p.netnsid})`}` : 'not in this scan';
      outside.set(key, `  ${dotString(key)} [label=${dotString(`${p.name ?? `ifindex ${p.ifindex ?? '?'}`}\n${where}`)}, shape="box", style="dotted"];`);
    }
    lines.push(`  ${dotString(key)} -> ${linkId(e.link.name)} [label=${dotString(e.link.kind === 'veth' ? 'veth peer' : 'lower device')}, style="dashed", arrowhead="none"];`);
  }
  lines.push(...outside.values());
  for (const e of endpoints) {
    const m = e.link.master;
    if (m === undefined) continue;
    if (!names.has(m)) lines.push(`  ${linkId(m)} [label=${dotString(`${m}\n(master, not scanned)`)}, shape="box", style="dotted"];`);
    lines.push(`  ${linkId(e.link.name)} -> ${linkId(m)} [label="port of", style="dotted"];`);
  }
  for (const r of redirectsOf(input.filters)) {
    if (!names.has(r.to)) lines.push(`  ${linkId(r.to)} [label=${dotString(`${r.to}\n(redirect target, not scanned)`)}, shape="box", style="dotted"];`);
    lines.push(`  ${linkId(r.from)} -> ${linkId(r.to)} [label="tc ingress: mirred redirect", color="blue", fontcolor="blue", penwidth=1.5];`);
  }
  lines.push('  subgraph "cluster_vm" {', `    label=${dotString(nics.length === 0 ? 'VM: no NIC (nothing attachable)' : 'VM')};`, '    style="rounded,filled";', '    fillcolor="aliceblue";');
  for (const n of nics) lines.push(`    ${nicId(n.index)} [label=${dotString(`net${n.index}\n${n.how}`)}, shape="box", style="rounded,filled", fillcolor="white"];`);
  lines.push('  }');
  for (const n of nics) {
    const from = n.via ?? n.endpoint.link.name;
    const style = n.via === undefined ? ['style="dashed"', 'label="becomes (after attach)"'] : ['penwidth=1.5', `label=${dotString(n.via === n.endpoint.link.name ? 'VM NIC' : `VM NIC for ${n.endpoint.link.name}`)}`];
    lines.push(`  ${linkId(from)} -> ${nicId(n.index)} [${style.join(', ')}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
};
