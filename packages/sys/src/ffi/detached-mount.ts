// Mounts that exist only as an fd (fsopen/fsmount, Linux 5.2+), never attached
// to any directory: nobody else can see them, nothing is left behind if we
// crash, and they vanish when the fd is closed. Paths inside are reached as
// /proc/self/fd/<fd>/... with ordinary fs calls.
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { call, closeQuietly } from './libc.js';

const FSOPEN_CLOEXEC = 0x1;
const FSMOUNT_CLOEXEC = 0x1;
const FSCONFIG_SET_STRING = 1;
const FSCONFIG_CMD_CREATE = 6;

export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;

export interface DetachedMount {
  readonly fd: number;
  /** The mount's root as a path usable by node:fs. */
  readonly root: string;
  readonly close: () => void;
}

const why = (fstype: string, step: string) => (c: string): string =>
  c === 'ENOSYS'
    ? `${step} ${fstype}: the kernel lacks the new mount API (Linux 5.2+)`
    : c === 'EPERM'
      ? `${step} ${fstype}: needs CAP_SYS_ADMIN`
      : `${step} ${fstype}`;

/**
 * A fresh superblock of fstype. For sysfs this is the point of it all: a new
 * sysfs shows the network namespace of the thread that calls fsopen, while
 * the host's /sys keeps showing the netns that mounted it.
 */
export const mountDetached = (
  fstype: 'sysfs' | 'tmpfs',
  attrs: number,
  options: Readonly<Record<string, string>> = {},
): E.Either<SysError, DetachedMount> => {
  const ctx = call('fsopen', why(fstype, 'fsopen'), fstype, FSOPEN_CLOEXEC);
  if (E.isLeft(ctx)) return ctx;
  try {
    for (const [key, value] of Object.entries(options)) {
      const set = call('fsconfig', why(fstype, `fsconfig ${key}=${value}`), ctx.right, FSCONFIG_SET_STRING, key, value, 0);
      if (E.isLeft(set)) return set;
    }
    const created = call('fsconfig', why(fstype, 'creating'), ctx.right, FSCONFIG_CMD_CREATE, null, null, 0);
    if (E.isLeft(created)) return created;
    return E.map((fd: number): DetachedMount => ({ fd, root: `/proc/self/fd/${fd}`, close: () => closeQuietly(fd) }))(
      call('fsmount', why(fstype, 'fsmount'), ctx.right, FSMOUNT_CLOEXEC, attrs),
    );
  } finally {
    closeQuietly(ctx.right);
  }
};

/** sysfs as the calling thread's netns sees it (call it inside withNetnsSync). */
export const mountNetnsSysfs = (): E.Either<SysError, DetachedMount> =>
  mountDetached('sysfs', MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
