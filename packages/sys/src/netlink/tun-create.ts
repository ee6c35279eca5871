// Creating a persistent tap as `ip tuntap add ... mode tap` does: TUNSETIFF on
// a fresh /dev/net/tun fd, then TUNSETOWNER/TUNSETGROUP when asked, then
// TUNSETPERSIST so the device outlives the fd. Must run inside
// withNetnsSync: the device is made in the netns of the thread opening
// /dev/net/tun.
import { closeSync, openSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { fromNodeError } from '../ffi/errno.js';
import { encodeLinkName, ifreqWithFlags } from '../ffi/ifreq.js';
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, TUNSETIFF } from '../ffi/tun-ioctl.js';
import { ncall } from './libc-net.js';

const TUNSETPERSIST = 0x400454cb;
/** Fail with EBUSY when the name is taken instead of reusing that device (ip tuntap sets it too). */
const IFF_TUN_EXCL = 0x8000;
const TUNSETOWNER = 0x400454cc;
const TUNSETGROUP = 0x400454ce;

export interface TapSpec {
  readonly name: string;
  readonly vnetHdr: boolean;
  readonly multiQueue: boolean;
  readonly owner?: number;
  readonly group?: number;
}

export const createPersistentTap = (spec: TapSpec): E.Either<SysError, void> => {
  const name = encodeLinkName(spec.name);
  if (E.isLeft(name)) return name;
  let fd: number;
  try {
    fd = openSync('/dev/net/tun', 'r+');
  } catch (e) {
    return E.left(fromNodeError('open', e, (c) => `opening /dev/net/tun: ${c}`));
  }
  try {
    const flags = IFF_TUN_EXCL | IFF_TAP | IFF_NO_PI | (spec.vnetHdr ? IFF_VNET_HDR : 0) | (spec.multiQueue ? IFF_MULTI_QUEUE : 0);
    const steps: [string, () => E.Either<SysError, number>][] = [
      ['TUNSETIFF', () => ncall('ioctlPtr', (c) => `TUNSETIFF ${spec.name}: ${c}`, fd, TUNSETIFF, ifreqWithFlags(name.right, flags))],
      ...(spec.owner === undefined ? [] : [['TUNSETOWNER', () => ncall('ioctlInt', (c) => `TUNSETOWNER ${spec.name} ${spec.owner}: ${c}`, fd, TUNSETOWNER, spec.owner)] as [string, () => E.Either<SysError, number>]]),
      ...(spec.group === undefined ? [] : [['TUNSETGROUP', () => ncall('ioctlInt', (c) => `TUNSETGROUP ${spec.name} ${spec.group}: ${c}`, fd, TUNSETGROUP, spec.group)] as [string, () => E.Either<SysError, number>]]),
      ['TUNSETPERSIST', () => ncall('ioctlInt', (c) => `TUNSETPERSIST ${spec.name}: ${c}`, fd, TUNSETPERSIST, 1)],
    ];
    for (const [, step] of steps) {
      const r = step();
      // Not persistent yet: closing the fd below removes the half-made device.
      if (E.isLeft(r)) return r;
    }
    return E.right(undefined);
  } finally {
    closeSync(fd);
  }
};
