// Stat calls on unix sockets, made so they cannot break module loading.
//
// Node 20's fs.realpathSync, which the ESM loader uses with its own cache,
// tests the *process-wide* stat buffer for S_IFSOCK/S_IFIFO when a path part is
// already cached, and stops resolving if it finds one. So after a plain
// statSync of a socket, the next package a lazily loaded command imports
// resolves through an unresolved symlink and fails (seen: "Cannot find package
// 'is-plain-obj'" in the CLI after a vhost-user socket scan). bigint stats
// fill a different buffer, which realpathSync never reads.
import { statSync } from 'node:fs';

const statOf = (path: string) => statSync(path, { bigint: true, throwIfNoEntry: false });

/** True when `path` is a unix socket (false when it is missing or unreadable). */
export const isSocketPath = (path: string): boolean => {
  try {
    return statOf(path)?.isSocket() ?? false;
  } catch {
    return false;
  }
};

/** The identity of the socket at `path` (device, inode, change time), or undefined when there is none. */
export const socketIdentity = (path: string): string | undefined => {
  try {
    const st = statOf(path);
    return st?.isSocket() === true ? `${st.dev}:${st.ino}:${st.ctimeNs}` : undefined;
  } catch {
    return undefined;
  }
};
