// Pure: what the guest must be told so the VM "becomes the pod" - each NIC's
// MAC, addresses and MTU, and the routes the pod had through those links.
import type { Link, Route, Snapshot } from '@tapwire/endpoints';
import type { GuestConfig, GuestNic, GuestRoute } from '../guest/index.js';

/** The guest NIC this VM gets for one pod link. */
export interface PodNic {
  readonly link: Link;
  readonly mac: string;
  readonly mtu: number;
}

const SIMPLE_IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

const isLinkLocal = (addr: string): boolean => addr.toLowerCase().startsWith('fe80:');

const guestNic = (n: PodNic): GuestNic => ({
  mac: n.mac,
  addresses: n.link.addresses.filter((a) => a.scope !== 'link' && a.scope !== 'host' && !isLinkLocal(a.local)).map((a) => `${a.local}/${a.prefixlen}`),
  mtu: n.mtu,
  // The guest renames its NIC to the pod's name only when the name is plain;
  // odd names stay the guest's own (the kernel cmdline cannot carry them safely).
  ...(SIMPLE_IFNAME.test(n.link.name) ? { name: n.link.name } : {}),
});

/** Routes the pod's own stack installed by hand (not the kernel's per-address ones). */
const podRoute = (r: Route, nics: readonly PodNic[]): GuestRoute | undefined => {
  if ((r.table ?? 'main') !== 'main' || (r.type ?? 'unicast') !== 'unicast' || r.protocol === 'kernel') return undefined;
  const nic = nics.find((n) => n.link.name === r.dev);
  if (nic === undefined) return undefined;
  const dst = r.dst === 'default' ? (r.family === 'inet6' ? '::/0' : '0.0.0.0/0') : r.dst.includes('/') ? r.dst : `${r.dst}/${r.family === 'inet6' ? 128 : 32}`;
  if (isLinkLocal(dst) || dst.toLowerCase().startsWith('ff')) return undefined;
  return { dst, ...(r.gateway === undefined ? {} : { via: r.gateway }), dev: nic.mac };
};

export const guestConfigFor = (snap: Snapshot, nics: readonly PodNic[], ping: readonly string[]): GuestConfig => ({
  nics: nics.map(guestNic),
  routes: snap.routes.flatMap((r) => podRoute(r, nics) ?? []),
  ping,
});
