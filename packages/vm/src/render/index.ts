// One file per VMM; each turns the same NicSpec list into that VMM's syntax.
export type { RenderError, Vmm } from './errors.js';
export { describeRenderError } from './errors.js';
export type { GuestMachine } from './guest.js';
export { renderLibvirtDomain, renderLibvirtNic } from './libvirt.js';
export { renderCloudHypervisorArgv, renderCloudHypervisorNic } from './cloud-hypervisor.js';
export type { FirecrackerConfig, FirecrackerNetworkInterface } from './firecracker.js';
export { renderFirecrackerConfig, renderFirecrackerNic } from './firecracker.js';
