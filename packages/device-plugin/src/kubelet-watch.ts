// Which kubelet we registered with: kubelet.sock's inode. A restarted
// kubelet removes the directory's sockets and makes kubelet.sock anew, so a
// new inode (or our own socket gone) means: serve again and register again.
import { socketIdentity } from '@tapwire/sys';

export { socketIdentity };
