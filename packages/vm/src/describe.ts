// Pure: the NICs a VM gets for a scanned netns and its attachments, as
// hypervisor-neutral NicSpecs, in endpoint order. Skipped endpoints and links
// left unattached get none, except a link that is attached (a macvtap attach
// takes its addresses, so it scans as skipped: it is attached, not unusable);
// a PCI function and a vhost-user socket need no attachment (they are passed
// through as they are).
import type { Endpoint } from '@tapwire/endpoints';
import { usableEndpoints, type Attachment } from '@tapwire/netmodel';
import { nicId, type NicBackend, type NicSpec } from './nic.js';

export interface DescribeOptions {
  /** Queue pairs a vhost-user NIC offers (its backend's business; default 1). */
  readonly vhostUserQueues?: number;
  /**
   * ifindex of a tap/macvtap device in the netns. Unknown (a dry run, before
   * anything is made): 0. prepareNics reads the real ones.
   */
  readonly ifindexOf?: (device: string) => number;
  /** The VMM id of the i-th NIC (default net<i>). */
  readonly idOf?: (i: number, link: string) => string;
}

const backendOf = (a: Attachment, ifindex: number): NicBackend =>
  a.device === 'macvtap'
    ? { kind: 'macvtap', device: a.tapName, ifindex }
    : // virtio-net always wants the vnet header: offloads and checksums pass through.
      { kind: 'tap', device: a.tapName, ifindex, multiQueue: a.multiQueue, vnetHdr: true };

/** One NicSpec per endpoint that gets a NIC, in endpoint order. */
export const describeNics = (endpoints: readonly Endpoint[], attachments: readonly Attachment[], o: DescribeOptions = {}): NicSpec[] => {
  const idOf = o.idOf ?? ((i: number) => nicId(i));
  const ifindexOf = o.ifindexOf ?? (() => 0);
  const out: NicSpec[] = [];
  for (const e of usableEndpoints(endpoints, attachments)) {
    const id = idOf(out.length, e.link.name);
    if (e.kind === 'physical') {
      out.push({ id, link: e.link.name, mac: '', mtu: e.link.mtu, queues: 1, backend: { kind: 'vfio', bdf: e.pci.bdf, boundDriver: e.pci.boundDriver } });
    } else if (e.kind === 'vhost-user') {
      out.push({ id, link: e.link.name, mac: e.link.mac ?? '', mtu: e.link.mtu, queues: o.vhostUserQueues ?? 1, backend: { kind: 'vhost-user', socket: e.socket } });
    } else {
      const a = attachments.find((x) => x.link === e.link.name);
      if (a !== undefined) out.push(nicOfAttachment(a, id, ifindexOf(a.tapName)));
    }
  }
  return out;
};

/** The NicSpec of one attachment (what a hotplug of that attachment adds). */
export const nicOfAttachment = (a: Attachment, id: string, ifindex = 0): NicSpec => ({
  id,
  link: a.link,
  mac: a.guestMac,
  mtu: a.mtu,
  queues: a.queues,
  backend: backendOf(a, ifindex),
});
