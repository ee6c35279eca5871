// Devices tapwire created but never got to record: the attaching process (or
// its whole process group, ip included) died between the ip -batch line that
// creates the device and the next line that writes the record into its alias.
//
// The record cannot be written in the creating request: a tap is created by
// an ioctl (TUNSETIFF), and the kernel ignores IFLA_IFALIAS when a macvtap is
// created (`ip link add ... alias X` makes a device without an alias). So the
// device's name carries the claim instead. tw<N> is the name tapwire gives the
// device of endpoint ifindex N and attach refuses to take over a foreign one;
// a device is half-made only when it is, additionally, exactly what the
// creating line alone leaves behind:
//   - named tw<N>, with N the ifindex of another link in the netns;
//   - no alias, down, no addresses, no master, no ingress qdisc or filters
//     (every later line of a plan sets the alias first, so any other change
//     implies an alias);
//   - a persistent tap with vnet_hdr and no packet info (`tuntap add ...
//     mode tap vnet_hdr`, with the owner/group the CNI plugin adds), or a bridge-mode macvtap whose
//     lower device is link N or, for a macvlan endpoint, link N's lower device.
// A user who hand-makes such a device under tapwire's name has it removed by
// detach; that is the price of closing the crash window, and the name is
// documented as tapwire's (index.ts). With --tap-name the name proves nothing,
// so a crash at that point leaves a device detach does not claim.
import type { Link } from '@tapwire/endpoints';
import type { Finding } from './findings.js';
import type { Attachment } from './model.js';
import type { NetnsView } from './state.js';
import { isOnLowerOf } from './lower.js';
import { isIngress } from './tc-json.js';
import { perView } from './per-view.js';
import { viewIndex } from './view-index.js';

export interface HalfMade {
  /** The device the creating line made. */
  readonly device: Link;
  /** The endpoint it was made for (ifindex N of tw<N>). */
  readonly link: Link;
  readonly model: 'tcfilter' | 'macvtap';
}

const TAPWIRE_NAME = /^tw([1-9][0-9]{0,9})$/;

const isBareTap = (d: Link): boolean =>
  d.kind === 'tun' && d.tun !== undefined && d.tun.mode === 'tap' && d.tun.vnetHdr && d.tun.persist && !d.tun.pi;

const isBareMacvtapOn = (d: Link, link: Link): boolean => d.kind === 'macvtap' && d.kindData['mode'] === 'bridge' && isOnLowerOf(d, link);

export const halfMadeDevices: (view: NetnsView) => readonly HalfMade[] = perView((view) =>
  view.links.flatMap((device): HalfMade[] => {
    const n = TAPWIRE_NAME.exec(device.name)?.[1];
    if (n === undefined) return [];
    const link = viewIndex(view).linkByIfindex.get(Number(n));
    if (link === undefined || link.ifindex === device.ifindex) return [];
    const untouched =
      (device.alias === undefined || device.alias === '') &&
      !device.flags.includes('UP') &&
      device.addresses.length === 0 &&
      device.master === undefined &&
      !viewIndex(view).withIngress.has(device.name) &&
      (view.filters[device.name] ?? []).length === 0;
    if (!untouched) return [];
    if (isBareTap(device)) return [{ device, link, model: 'tcfilter' }];
    if (isBareMacvtapOn(device, link)) return [{ device, link, model: 'macvtap' }];
    return [];
  }),
);

/** What detach reports for a half-made device: the endpoint as it still is (nothing else was changed). */
export const attachmentOfHalfMade = (h: HalfMade): Attachment => ({
  link: h.link.name,
  model: h.model,
  tapName: h.device.name,
  queues: 1,
  multiQueue: h.device.tun?.multiQueue === true,
  guestMac: h.link.mac ?? '-',
  mtu: h.device.mtu,
  device: h.model === 'tcfilter' ? 'tap' : 'macvtap',
});

export const halfMadeFinding = (h: HalfMade): Finding => {
  const d = h.device.name;
  return { _tag: 'RecordMissing', device: d, message: `${d} is a half-made tapwire ${h.model === 'tcfilter' ? 'tap' : 'macvtap'} for ${h.link.name} (an attach died before recording it)` };
};
