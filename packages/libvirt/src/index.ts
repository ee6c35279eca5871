// KubeVirt-style VMs through libvirt (issue 12): a private libvirtd inside the
// pod netns and a mount namespace of its own; domains whose interfaces are the
// pod's taps and macvtaps, handed over by name (managed='no').
export type { LibvirtError } from './errors.js';
export { describeLibvirtError } from './errors.js';
export type { DaemonOptions, MacvtapNode, PrivateDaemon } from './daemon.js';
export { startPrivateDaemon, DEFAULT_CAPS_CACHE_DIR } from './daemon.js';
export { LIBVIRTD_CONF, QEMU_CONF, QEMU_USER, passwdWithQemuUser, groupWithQemuGroup, daemonFstab, devFstab, renderFstab } from './config.js';
export { virsh } from './virsh.js';
export type { RootQdiscs } from './qdisc.js';
export { readRootQdiscs, restoreRootQdiscs, noqueueAdded, rootQdiscsOf } from './qdisc.js';
export { plannedAttachments, endpointsToAttach } from './pod-nics.js';
export type { LibvirtLaunchOptions, LibvirtLaunchResult, LibvirtTimings } from './launch.js';
export { launchViaLibvirt } from './launch.js';
