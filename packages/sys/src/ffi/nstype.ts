import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { call } from './libc.js';

const NS_GET_NSTYPE = 0xb703;

const TYPES: ReadonlyMap<number, string> = new Map([
  [0x40000000, 'net'],
  [0x00020000, 'mnt'],
  [0x04000000, 'uts'],
  [0x08000000, 'ipc'],
  [0x10000000, 'user'],
  [0x20000000, 'pid'],
  [0x02000000, 'cgroup'],
  [0x00000080, 'time'],
]);

/**
 * The namespace type of an open fd ("net", "mnt"...), undefined when it is not
 * an nsfs file. Unlike readlink(/proc/self/fd/N), which prints "net:[ino]"
 * only for /proc/PID/ns/* and the mount path for a bind mount such as
 * /run/netns/NAME, this answers for both.
 */
export const nsTypeOfFd = (fd: number): E.Either<SysError, string | undefined> => {
  const r = call('ioctl', (c) => `NS_GET_NSTYPE on fd ${fd}: ${c}`, fd, NS_GET_NSTYPE, null);
  if (E.isRight(r)) return E.right(TYPES.get(r.right) ?? `unknown(0x${r.right.toString(16)})`);
  return r.left._tag === 'SyscallFailed' && (r.left.code === 'ENOTTY' || r.left.code === 'EINVAL') ? E.right(undefined) : r;
};
