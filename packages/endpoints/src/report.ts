// The stable machine-readable shape of an endpoint (`inspect --json`).
import type { Endpoint } from './endpoint.js';

export interface EndpointReport {
  readonly name: string;
  readonly ifindex: number;
  readonly kind: Endpoint['kind'];
  readonly linkKind: string | null;
  readonly reason: string;
  readonly skipped: string | null;
  readonly attachable: boolean;
  readonly mac: string | null;
  readonly mtu: number;
  readonly state: string;
  readonly parent: string | null;
  readonly addresses: readonly string[];
  readonly pci?: { bdf: string; driver: string; vendor: string | null; device: string | null; boundDriver: string | null };
  readonly socket?: string;
  readonly multiQueue?: boolean;
  readonly vnetHdr?: boolean;
  /** A tap's owner and group as numbers; null when unset. */
  readonly owner?: number | null;
  readonly group?: number | null;
}

export const endpointReport = (e: Endpoint): EndpointReport => {
  const l = e.link;
  const base: EndpointReport = {
    name: l.name,
    ifindex: l.ifindex,
    kind: e.kind,
    linkKind: l.kind ?? null,
    reason: e.reason,
    skipped: e.skipped ?? null,
    attachable: e.skipped === undefined,
    mac: l.mac ?? null,
    mtu: l.mtu,
    state: l.operstate,
    parent: l.parent === undefined ? null : (l.parent.name ?? `if${l.parent.ifindex ?? '?'}${l.parent.otherNetns ? ' (other netns)' : ''}`),
    addresses: l.addresses.map((a) => `${a.local}/${a.prefixlen}`),
  };
  switch (e.kind) {
    case 'physical':
      return {
        ...base,
        pci: { bdf: e.pci.bdf, driver: e.pci.driver, vendor: e.pci.vendor ?? null, device: e.pci.device ?? null, boundDriver: e.pci.boundDriver ?? null },
      };
    case 'vhost-user':
      return { ...base, socket: e.socket };
    case 'tap':
    case 'tuntap':
      return { ...base, multiQueue: e.multiQueue, vnetHdr: e.vnetHdr, owner: e.owner ?? null, group: e.group ?? null };
    default:
      return base;
  }
};
