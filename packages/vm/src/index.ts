// Hypervisor-neutral NIC descriptions (issues 10 and 12): see README.md.
export type { NicSpec, NicBackend, NicKind, NicFds, TapBackend, MacvtapBackend, VhostUserBackend, VfioBackend } from './nic.js';
export { NicSpecC, NicBackendC, TapBackendC, MacvtapBackendC, VhostUserBackendC, VfioBackendC, takesFds, nicsNeedSharedMemory, nicId } from './nic.js';
export type { VmError } from './errors.js';
export { describeVmError, abortReason, renderError } from './errors.js';
export type { DescribeOptions } from './describe.js';
export { describeNics, nicOfAttachment } from './describe.js';
export type { PrepareOptions, PreparedNics, HeldFd, InheritedFds } from './prepare.js';
export { prepareNics, preparedOf, inheritFds, FIRST_CHILD_FD } from './prepare.js';
export type { AttachmentState, VmRef, NicState, PciFunctionSeen, Drift, NicStateCheck, Observed, CheckStateOptions } from './state.js';
export { AttachmentC, VmRefC, NicStateC, NIC_STATE_VERSION, encodeNicState, decodeNicState, nicStateDrift, describeDrift, checkNicState } from './state.js';
// Renderers per VMM (libvirt XML, cloud-hypervisor argv, Firecracker config): render/.
export * from './render/index.js';
