// Queue fds of an existing tap inside a netns, ready to hand to QEMU
// (fds=a:b:c via spawn stdio positions). A tun fd belongs to the netns of the
// thread that opened /dev/net/tun, and TUNSETIFF looks the name up there, so
// both happen inside withNetnsSync.
import { openSync, readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import type { NetnsHandle } from '../netns.js';
import { fromNodeError } from './errno.js';
import { openDrvinfoReader, type DrvinfoReader } from './ethtool.js';
import { checkQueues, closeAll } from './fds.js';
import { encodeLinkName, ifreqWithFlags } from './ifreq.js';
import { call } from './libc.js';
import { inNetnsSync } from './netns-sync.js';
import { mountNetnsSysfs } from './detached-mount.js';
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, TUNSETIFF } from './tun-ioctl.js';

export interface TapQueueOptions {
  readonly queues: number;
  /** Must match how the tap was created (`ip tuntap add ... multi_queue`). */
  readonly multiQueue: boolean;
  readonly vnetHdr: boolean;
}

const TUN_DEVICE = '/dev/net/tun';

type Mode = 'multi_queue' | 'single_queue';

/**
 * TUNSETIFF creates a tap when the name is free; we only attach to existing
 * ones, so check first that the name is a tap (driver "tun", bus-info "tap").
 * A tap deleted between this check and TUNSETIFF would come back as a
 * transient tap owned by our fds - harmless, it dies with them.
 */
const checkIsTap = (ns: NetnsHandle, name: string, bytes: Buffer): E.Either<SysError, void> =>
  E.chain((reader: DrvinfoReader) => {
    try {
      const info = reader.read(bytes);
      if (E.isLeft(info)) return info;
      if (info.right === undefined) return E.left<SysError>({ _tag: 'LinkNotFound', netns: ns.spec, link: name });
      const { driver, busInfo } = info.right;
      if (driver !== 'tun') return E.left<SysError>({ _tag: 'WrongLinkKind', netns: ns.spec, name, expected: 'a tap device (driver tun)', found: `a ${driver} link` });
      if (busInfo !== 'tap') return E.left<SysError>({ _tag: 'WrongLinkKind', netns: ns.spec, name, expected: 'a tap (layer 2) device', found: 'a tun (layer 3) device' });
      return E.right(undefined);
    } finally {
      reader.close();
    }
  })(openDrvinfoReader());

/** How the tap was created, from tun_flags in this netns' sysfs; undefined if unreadable. */
const createdMode = (name: string): Mode | undefined => {
  const sysfs = mountNetnsSysfs();
  if (E.isLeft(sysfs)) return undefined;
  try {
    const flags = Number(readFileSync(`${sysfs.right.root}/class/net/${name}/tun_flags`, 'utf8').trim());
    return Number.isNaN(flags) ? undefined : (flags & IFF_MULTI_QUEUE) !== 0 ? 'multi_queue' : 'single_queue';
  } catch {
    return undefined;
  } finally {
    sysfs.right.close();
  }
};

const mismatchHint = (asked: Mode, queues: number): string =>
  asked === 'single_queue'
    ? 'open it with multiQueue: true, or recreate it without multi_queue'
    : `open it with multiQueue: false and queues: 1, or recreate it with \`ip tuntap add ... multi_queue\` to get ${queues} queues`;

const explainSetIff = (ns: NetnsHandle, name: string, asked: Mode, queues: number, err: SysError): SysError => {
  if (err._tag !== 'SyscallFailed') return err;
  switch (err.code) {
    case 'EINVAL': {
      // checkIsTap ruled out "not a tap" and "tun mode"; what is left is the
      // IFF_MULTI_QUEUE check in tun_set_iff. Confirm from tun_flags when we can.
      const created = createdMode(name);
      if (created === asked) return err;
      return { _tag: 'TapQueueMismatch', netns: ns.spec, name, asked, created: created ?? 'unknown', hint: mismatchHint(asked, queues) };
    }
    case 'EBUSY':
      return {
        _tag: 'TapBusy',
        netns: ns.spec,
        name,
        hint: 'a single-queue tap takes one open fd and something (a running QEMU?) already holds it; stop it or recreate the tap multi_queue',
      };
    case 'EPERM':
      return { ...err, detail: `attaching to tap ${name} needs CAP_NET_ADMIN or being the tap's owner/group` };
    default:
      return err;
  }
};

const openTunDevice = (): E.Either<SysError, number> => {
  try {
    return E.right(openSync(TUN_DEVICE, 'r+'));
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') {
      return E.left({ _tag: 'DeviceMissing', path: TUN_DEVICE, hint: 'load the tun module (modprobe tun)' });
    }
    return E.left(fromNodeError('open', e, (c) => `opening ${TUN_DEVICE}: ${c}`));
  }
};

/**
 * Opens `queues` fds attached to tap `name` in the netns. On any failure every
 * fd opened so far is closed. fds carry O_CLOEXEC (libuv), which is what we
 * want in this process; pass them to QEMU through spawn's stdio array.
 */
export const openTapQueues = (ns: NetnsHandle, name: string, opts: TapQueueOptions): E.Either<SysError, number[]> => {
  const bytes = encodeLinkName(name);
  if (E.isLeft(bytes)) return bytes;
  const queues = checkQueues('tap queue count', opts.queues);
  if (E.isLeft(queues)) return queues;
  if (!opts.multiQueue && opts.queues !== 1) {
    return E.left({ _tag: 'BadInput', what: 'tap queue count', input: String(opts.queues), expected: '1 when multiQueue is false' });
  }
  const asked: Mode = opts.multiQueue ? 'multi_queue' : 'single_queue';
  const flags = IFF_TAP | IFF_NO_PI | (opts.vnetHdr ? IFF_VNET_HDR : 0) | (opts.multiQueue ? IFF_MULTI_QUEUE : 0);
  return inNetnsSync(ns, () => {
    const isTap = checkIsTap(ns, name, bytes.right);
    if (E.isLeft(isTap)) return isTap;
    const fds: number[] = [];
    for (let i = 0; i < opts.queues; i++) {
      const fd = openTunDevice();
      if (E.isLeft(fd)) {
        closeAll(fds);
        return fd;
      }
      fds.push(fd.right);
      const set = call('ioctl', (c) => `TUNSETIFF ${name} queue ${i + 1}/${opts.queues}: ${c}`, fd.right, TUNSETIFF, ifreqWithFlags(bytes.right, flags));
      if (E.isLeft(set)) {
        closeAll(fds);
        return E.left(explainSetIff(ns, name, asked, opts.queues, set.left));
      }
    }
    return E.right(fds);
  });
};
