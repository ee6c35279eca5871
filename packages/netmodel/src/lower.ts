// Which device a macvtap made with `ip link add link L ... type macvtap` sits
// on. The kernel follows a macvlan L to its own lower device (macvlan's
// newlink takes the port's device), and that device may live in another
// netns: the CNI macvlan plugin makes the macvlan on a host NIC and then
// moves it into the pod, so ip shows only link_index + link_netnsid for it.
import type { Link } from '@tapwire/endpoints';

type Parent = NonNullable<Link['parent']>;

/** A parent reference that names link l of this netns. */
const namesLocal = (p: Parent, l: Link): boolean => !p.otherNetns && (p.name === l.name || (p.name === undefined && p.ifindex === l.ifindex));

/** Two parent references to the same device: same netns (by netnsid) and ifindex, or the same local name. */
const sameParent = (a: Parent, b: Parent): boolean => {
  if (a.otherNetns !== b.otherNetns) return false;
  if (a.otherNetns) return a.ifindex !== undefined && a.ifindex === b.ifindex && a.netnsid === b.netnsid;
  return (a.name !== undefined && a.name === b.name) || (a.ifindex !== undefined && a.ifindex === b.ifindex);
};

/** The macvtap `device` is where the kernel puts one made on `endpoint`. */
export const isOnLowerOf = (device: Link, endpoint: Link): boolean => {
  const p = device.parent;
  if (p === undefined) return false;
  if (namesLocal(p, endpoint)) return true;
  return endpoint.kind === 'macvlan' && endpoint.parent !== undefined && sameParent(p, endpoint.parent);
};

/** How a finding names the lower device the macvtap should sit on. */
export const expectedLower = (endpoint: Link): string => {
  const p = endpoint.parent;
  if (endpoint.kind !== 'macvlan' || p === undefined) return endpoint.name;
  const lower = p.name ?? `if${p.ifindex ?? '?'}${p.otherNetns ? ` in netnsid ${p.netnsid ?? '?'}` : ''}`;
  return `${endpoint.name} or its lower device ${lower}`;
};

/** A parent reference for messages. */
export const describeParent = (p: Link['parent']): string =>
  p === undefined ? '-' : (p.name ?? `if${p.ifindex ?? '?'}${p.otherNetns ? ` in netnsid ${p.netnsid ?? '?'}` : ''}`);
