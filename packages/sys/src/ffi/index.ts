// Syscalls Node lacks (setns, ioctl, the new mount API), behind typed,
// synchronous, Either-returning functions.
export { withNetnsSync, inNetnsSync } from './netns-sync.js';
export type { DriverInfo } from './ethtool.js';
export { readDriverInfo } from './ethtool.js';
export type { TapQueueOptions } from './tap.js';
export { openTapQueues } from './tap.js';
export { openMacvtapQueues } from './macvtap.js';
export { openVhostNet } from './vhost.js';
export { closeFds, MAX_QUEUES } from './fds.js';
export { encodeLinkName } from './ifreq.js';
export { nsTypeOfFd } from './nstype.js';
export type { TunIds } from './tun-ids.js';
export { readTunIds } from './tun-ids.js';
export type { NetnsLock, NetnsLockOptions } from './netns-lock.js';
export { lockNetns, withNetnsLock, netnsLockFile, DEFAULT_LOCK_DIR, DEFAULT_LOCK_TIMEOUT_MS } from './netns-lock.js';
export { connectUnixStream, sendWithFds, isAgain, MAX_FDS_PER_MESSAGE } from './scm-rights.js';
