// Queue fds of a macvtap (or ipvtap) link inside a netns.
//
// What we measured (kernel 6.18, Debian 12, this machine):
// - The char device is named tap<ifindex> but its dev_t is MAJOR:minor with
//   the minor from a global idr, NOT the ifindex. ifindexes are per netns, so
//   two netns each holding a macvtap with ifindex 4 both want /dev/tap4:
//   devtmpfs keeps the first (246:1) and never creates the second (246:2).
//   Opening /dev/tap<ifindex> would have attached our VM to ANOTHER netns'
//   macvtap. /dev/tapN is therefore never used.
// - After setns, the host's /sys still shows the netns that mounted it
//   (/sys/class/net lists host links, /sys/class/net/mvt0 is ENOENT,
//   /sys/class/macvtap is empty). /sys/dev/char/246:2 is absent too.
// - A sysfs superblock made with fsopen("sysfs") while the thread is inside
//   the netns shows that netns: class/net/<name>/ifindex and
//   class/net/<name>/tap<ifindex>/dev ("246:2") are right there. fsmount
//   gives a detached mount, no mount namespace needed, no trace left.
// - So: read MAJOR:MINOR there, mknod it in a private detached tmpfs (only
//   reachable through our fd, gone when it is closed), open it per queue,
//   then check fstat's rdev and TUNGETIFF's name, and re-read sysfs so a link
//   deleted (minor reused) in between is caught.
// - macvtap queues start with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR (TUNGETIFF says
//   0x5002) and vnet_hdr_sz 10; QEMU sets its own header size. Each open() is
//   one more queue; no TUNSETIFF is needed unless vnet_hdr was turned off.
import { fstatSync, openSync, readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import type { NetnsHandle } from '../netns.js';
import { fromNodeError } from './errno.js';
import { checkQueues, closeAll } from './fds.js';
import { MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, mountDetached, mountNetnsSysfs } from './detached-mount.js';
import { encodeLinkName, ifreqFlags, ifreqName, ifreqWithFlags } from './ifreq.js';
import { call } from './libc.js';
import { inNetnsSync } from './netns-sync.js';
import { IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, TUNGETIFF, TUNSETIFF } from './tun-ioctl.js';

interface TapDevice {
  readonly ifindex: number;
  readonly major: number;
  readonly minor: number;
}

const S_IFCHR = 0o020000;

/** glibc's makedev: the 64-bit dev_t that mknod takes and stat returns. */
export const makedev = (major: number, minor: number): bigint => {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
};

const code = (e: unknown): unknown => (e as { code?: unknown }).code;

/** ifindex and MAJOR:MINOR of the link's tap char device, from a netns sysfs. */
const readTapDevice = (ns: NetnsHandle, sysfs: string, name: string): E.Either<SysError, TapDevice> => {
  const dir = `${sysfs}/class/net/${name}`;
  let ifindex: number;
  try {
    ifindex = Number(readFileSync(`${dir}/ifindex`, 'utf8').trim());
  } catch (e) {
    if (code(e) === 'ENOENT') return E.left({ _tag: 'LinkNotFound', netns: ns.spec, link: name });
    return E.left(fromNodeError('read', e, (c) => `reading ${name}'s ifindex from sysfs: ${c}`));
  }
  let dev: string;
  try {
    dev = readFileSync(`${dir}/tap${ifindex}/dev`, 'utf8').trim();
  } catch (e) {
    if (code(e) !== 'ENOENT') return E.left(fromNodeError('read', e, (c) => `reading ${name}'s tap device from sysfs: ${c}`));
    let kind = '';
    try {
      kind = /^DEVTYPE=(.*)$/m.exec(readFileSync(`${dir}/uevent`, 'utf8'))?.[1] ?? '';
    } catch {
      // Only used to word the error.
    }
    const found = kind === '' ? 'a link without a tap character device' : `a ${kind} link (no tap character device)`;
    return E.left({ _tag: 'WrongLinkKind', netns: ns.spec, name, expected: 'a macvtap or ipvtap link', found });
  }
  const m = /^(\d+):(\d+)$/.exec(dev);
  if (m?.[1] === undefined || m[2] === undefined) {
    return E.left({ _tag: 'BadInput', what: `sysfs dev of ${name}`, input: dev, expected: 'MAJOR:MINOR' });
  }
  return E.right({ ifindex, major: Number(m[1]), minor: Number(m[2]) });
};

/** Opens the char device `queues` times through a node in a private tmpfs. */
const openDeviceNode = (ns: NetnsHandle, device: TapDevice, name: string, queues: number): E.Either<SysError, number[]> => {
  const tmp = mountDetached('tmpfs', MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, { mode: '0700', size: '4k', nr_inodes: '4' });
  if (E.isLeft(tmp)) return tmp;
  // Named after the link so /proc/<qemu>/fd reads "/macvtap-<name>".
  const node = `macvtap-${name}`;
  const fds: number[] = [];
  try {
    const made = call('mknodat', (c) => `making a node for ${name}'s tap device ${device.major}:${device.minor}: ${c}`,
      tmp.right.fd, node, S_IFCHR | 0o600, makedev(device.major, device.minor));
    if (E.isLeft(made)) return made;
    for (let i = 0; i < queues; i++) {
      try {
        fds.push(openSync(`${tmp.right.root}/${node}`, 'r+'));
      } catch (e) {
        closeAll(fds);
        if (code(e) === 'ENXIO' || code(e) === 'ENODEV') return E.left({ _tag: 'LinkNotFound', netns: ns.spec, link: name });
        return E.left(fromNodeError('open', e, (c) => `opening ${name}'s tap device queue ${i + 1}/${queues}: ${c}`));
      }
    }
    return E.right(fds);
  } finally {
    tmp.right.close();
  }
};

/** The fd is the device we meant and carries a vnet header (turned on if needed). */
const checkQueueFd = (ns: NetnsHandle, name: string, device: TapDevice, fd: number): E.Either<SysError, void> => {
  const rdev = fstatSync(fd, { bigint: true }).rdev;
  const ifr = ifreqWithFlags(Buffer.alloc(0), 0);
  const got = call('ioctl', (c) => `TUNGETIFF on ${name}'s tap device: ${c}`, fd, TUNGETIFF, ifr);
  if (E.isLeft(got)) return got;
  // A different name means our link went away and its minor was reused.
  if (rdev !== makedev(device.major, device.minor) || ifreqName(ifr) !== name) return E.left({ _tag: 'LinkNotFound', netns: ns.spec, link: name });
  if ((ifreqFlags(ifr) & IFF_VNET_HDR) !== 0) return E.right(undefined);
  // macvtap's TUNSETIFF ignores the name and only toggles vnet_hdr/multi_queue.
  return E.map(() => undefined)(
    call('ioctl', (c) => `TUNSETIFF vnet_hdr on ${name}'s tap device: ${c}`, fd, TUNSETIFF, ifreqWithFlags(Buffer.alloc(0), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)),
  );
};

/**
 * Opens `queues` fds on macvtap/ipvtap `linkName` in the netns, each with
 * vnet_hdr on (QEMU's expectation). On any failure every fd is closed.
 */
export const openMacvtapQueues = (ns: NetnsHandle, linkName: string, queues: number): E.Either<SysError, number[]> => {
  const bytes = encodeLinkName(linkName);
  if (E.isLeft(bytes)) return bytes;
  const count = checkQueues('macvtap queue count', queues);
  if (E.isLeft(count)) return count;
  return inNetnsSync(ns, () => {
    const sysfs = mountNetnsSysfs();
    if (E.isLeft(sysfs)) return sysfs;
    try {
      const device = readTapDevice(ns, sysfs.right.root, linkName);
      if (E.isLeft(device)) return device;
      const opened = openDeviceNode(ns, device.right, linkName, queues);
      if (E.isLeft(opened)) return opened;
      const fds = opened.right;
      for (const fd of fds) {
        const ok = checkQueueFd(ns, linkName, device.right, fd);
        if (E.isLeft(ok)) {
          closeAll(fds);
          return ok;
        }
      }
      // The link could have been deleted and its minor reused before open().
      const again = readTapDevice(ns, sysfs.right.root, linkName);
      if (E.isLeft(again) || again.right.ifindex !== device.right.ifindex || again.right.minor !== device.right.minor || again.right.major !== device.right.major) {
        closeAll(fds);
        return E.isLeft(again) ? again : E.left({ _tag: 'LinkNotFound', netns: ns.spec, link: linkName });
      }
      return E.right(fds);
    } finally {
      sysfs.right.close();
    }
  });
};
