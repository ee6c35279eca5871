export * from './args/index.js';
export * from './guest/index.js';
export type { Qmp, QmpError, QmpEvent, QmpStatus } from './launch/qmp.js';
export type { QmpReady } from './launch/qmp-ready.js';
export { qmpReady } from './launch/qmp-ready.js';
export { connectQmp, queryStatus, describeQmpError } from './launch/qmp.js';
export type { LaunchOptions, LaunchResult, PassedFd } from './session/launch-pod.js';
export { launchPod, QEMU_BINARY } from './session/launch-pod.js';
export type { LaunchError } from './session/errors.js';
export { describeLaunchError } from './session/errors.js';
export type { Stage, StageEvent, StageRecord } from './session/stages.js';
export { STAGES } from './session/stages.js';
export type { AccelChoice } from './session/accel.js';
export { guestConfigFor } from './session/guest-config.js';
// The package's one error union (LaunchError is the same type under its old name).
export type { QemuError } from './errors.js';
export { describeQemuError } from './errors.js';
// A running VM as a handle (issue 10): start it, read its NICs' PCI addresses, stop it.
export type { VmHandle, VmEvent, VmExit, NicTable } from './vm/handle.js';
export type { Feed } from './vm/feed.js';
export type { StartVmSpec } from './vm/start.js';
export { startVm } from './vm/start.js';
export type { ReconnectVmSpec } from './vm/reconnect.js';
export { reconnectVm } from './vm/reconnect.js';
export { queryPciFunctions, decodeQueryPci, pciAddressOf } from './vm/query-pci.js';
export type { Proof, ProveOptions, StoppedBecause } from './session/prove.js';
export { proveGuest } from './session/prove.js';
export { qemuArgvFor, passedFds } from './session/boot.js';
export { scanStep, attachStep, guestStep, plannedAttachments } from './session/steps.js';
export { checkVmNicState } from './vm/check.js';
// NIC hotplug and unplug on a running VM, and the guest control channel (issue 10, item 2).
export * from './hotplug/index.js';
