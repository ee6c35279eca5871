// The pure QEMU argument renderer: no I/O, every bad input is an ArgsError.
export type { TapNic, VhostUserNic, VfioNic, Nic, QemuNic, NicInput } from './nic.js';
export { nicsNeedSharedMemory, qemuNicOf, flatNic } from './nic.js';
export type { ArgsError } from './errors.js';
export { describeArgsError } from './errors.js';
export { escapeOptValue } from './escape.js';
export type { FdNeed, FdPositions } from './fds.js';
export { assignFdPositions, childFdSlots, FIRST_CHILD_FD } from './fds.js';
export type { Accel, Interrupts } from './render-nic.js';
export { interruptsFor, renderNicArgs } from './render-nic.js';
export type { MachineSpec } from './render-machine.js';
export { renderMachineArgs, QMP_CHARDEV_ID, SERIAL_CHARDEV_ID, SHARED_MEMORY_ID } from './render-machine.js';
export type { QemuSpec } from './argv.js';
export { renderQemuArgv } from './argv.js';
