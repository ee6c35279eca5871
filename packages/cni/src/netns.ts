// CNI_NETNS as a NetnsHandle without FFI: the plugins must load nothing native,
// so the namespace is checked by statfs (an nsfs file) and entered by nsenter,
// which refuses a namespace of another type.
import { statfsSync, statSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { NetnsHandle } from '@tapwire/sys';
import { CODES, cniError, type CniError } from './spec/errors.js';

const NSFS_MAGIC = 0x6e736673;

/**
 * right(undefined): the path is gone, or is no path at all (DEL, the only
 * command that takes CNI_NETNS unchecked, treats both as done).
 */
export const openNetns = (path: string): E.Either<CniError, NetnsHandle | undefined> => {
  if (!path.startsWith('/')) return E.right(undefined);
  let inode: number;
  try {
    inode = statSync(path).ino;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return E.right(undefined);
    return E.left(cniError(CODES.invalidEnv, `CNI_NETNS ${JSON.stringify(path)} cannot be read`, String(code)));
  }
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch (e) {
    return E.left(cniError(CODES.invalidEnv, `CNI_NETNS ${JSON.stringify(path)} cannot be read`, (e as Error).message));
  }
  if (type !== NSFS_MAGIC) return E.left(cniError(CODES.invalidEnv, `CNI_NETNS ${JSON.stringify(path)} is not a namespace file`, 'expected a bind-mounted netns (/run/netns/NAME) or /proc/PID/ns/net'));
  return E.right({ spec: path, path, inode });
};

/** ADD and CHECK need the netns: a missing one is "container unknown" (code 3). */
export const requireNetns = (path: string): E.Either<CniError, NetnsHandle> =>
  E.chain((h: NetnsHandle | undefined) =>
    h === undefined ? E.left(cniError(CODES.unknownContainer, `CNI_NETNS ${JSON.stringify(path)} does not exist`)) : E.right(h),
  )(openNetns(path));
