// A tun/tap's owner and group as numbers. iproute2 prints them as names when
// passwd/group know them ("cloudsdk", "nobody"); the kernel's own numbers are
// in sysfs (class/net/<name>/owner and group, "-1" when unset). The host's
// /sys shows the netns that mounted it, so the netns's own sysfs is mounted
// (detached, only reachable through an fd) while the thread is inside it.
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import type { NetnsHandle } from '../netns.js';
import { mountNetnsSysfs } from './detached-mount.js';
import { fromNodeError } from './errno.js';
import { encodeLinkName } from './ifreq.js';
import { inNetnsSync } from './netns-sync.js';

/** Who may attach queues to a tun/tap; undefined = not restricted by that id. */
export interface TunIds {
  readonly owner: number | undefined;
  readonly group: number | undefined;
}

const MAX_ID = 2 ** 32 - 2;

/** sysfs's "%u" or "-1" (INVALID_UID/GID) as a number or undefined. */
export const parseTunId = (what: string, text: string): E.Either<SysError, number | undefined> => {
  const s = text.trim();
  if (s === '-1') return E.right(undefined);
  const n = /^\d{1,10}$/.test(s) ? Number(s) : NaN;
  return n <= MAX_ID ? E.right(n) : E.left({ _tag: 'BadInput', what, input: s, expected: 'a decimal uid/gid or -1' });
};

/** right(null): no such file - the link is gone (deleted since ip listed it) or is no tun. */
const readId = (root: string, name: string, file: 'owner' | 'group'): E.Either<SysError, number | undefined | null> => {
  let text: string;
  try {
    text = readFileSync(`${root}/class/net/${name}/${file}`, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return E.right(null);
    return E.left(fromNodeError('read', e, (c) => `reading ${name}'s tun ${file} from sysfs: ${c}`));
  }
  return parseTunId(`sysfs ${file} of ${name}`, text);
};

/**
 * Owner and group of each named tun/tap in the netns, by name: one sysfs
 * mount and two small reads a link, no process spawned. A name that is no tun
 * (or is gone) is absent, as readDriverInfo leaves out links that do not answer.
 */
export const readTunIds = (ns: NetnsHandle, names: readonly string[]): E.Either<SysError, Record<string, TunIds>> => {
  const encoded = E.sequenceArray(names.map(encodeLinkName));
  if (E.isLeft(encoded)) return encoded;
  if (names.length === 0) return E.right({});
  return inNetnsSync(ns, () => {
    const sysfs = mountNetnsSysfs();
    if (E.isLeft(sysfs)) return sysfs;
    try {
      const found: [string, TunIds][] = [];
      for (const name of names) {
        const owner = readId(sysfs.right.root, name, 'owner');
        if (E.isLeft(owner)) return owner;
        const group = readId(sysfs.right.root, name, 'group');
        if (E.isLeft(group)) return group;
        if (owner.right === null || group.right === null) continue;
        found.push([name, { owner: owner.right, group: group.right }]);
      }
      return E.right(Object.fromEntries(found));
    } finally {
      sysfs.right.close();
    }
  });
};
