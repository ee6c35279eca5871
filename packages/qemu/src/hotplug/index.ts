// NIC hotplug and unplug on a running QEMU (QMP), and the guest control
// channel that tells guest/init about each NIC.
export type { HotplugError, PlugStep } from './errors.js';
export { describeHotplugError, PLUG_STEPS } from './errors.js';
export type { HotNic, PluggedNic, HotplugOptions } from './plug.js';
export { plugNic, unplugNic, deviceIdOf } from './plug.js';
export type { PciAddress, PciView, PortView } from './pci.js';
export { readPci, freePort, formatPciAddress } from './pci.js';
export type { HotVm, HotAttachError, HotAttached, HotAttachOptions, HotAttachResult, HotDetachOptions } from './hot-attach.js';
export { hotAttach, hotDetach, describeHotAttachError } from './hot-attach.js';
export type { HotVmOf } from './vm.js';
export { hotVmOf, hotAdd, hotRemove } from './vm.js';
export { nicSpecOfHot, pluggedOfNicSpec } from './state.js';
