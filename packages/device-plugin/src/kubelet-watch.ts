// Which kubelet we registered with: kubelet.sock's inode. A restarted
// kubelet removes the directory's sockets and makes kubelet.sock anew, so a
// new inode (or our own socket gone) means: serve again and register again.
import { statSync } from 'node:fs';

export const socketIdentity = (path: string): string | undefined => {
  try {
    const st = statSync(path);
    return st.isSocket() ? `${st.dev}:${st.ino}:${st.ctimeMs}` : undefined;
  } catch {
    return undefined;
  }
};
