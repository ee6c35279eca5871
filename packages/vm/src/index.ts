// Hypervisor-neutral NIC descriptions (issues 10 and 12): see README.md.
export type { NicSpec, NicBackend, NicKind, NicFds, TapBackend, MacvtapBackend, VhostUserBackend, VfioBackend } from './nic.js';
export { NicSpecC, NicBackendC, TapBackendC, MacvtapBackendC, VhostUserBackendC, VfioBackendC, takesFds, nicsNeedSharedMemory, nicId } from './nic.js';
