/**
 * Fault injection (ApplyOptions.failAt) replaces an op by one the tool or the
 * kernel rejects without changing anything: the device name is 15 bytes
 * (valid) and tapwire never makes it.
 */
export const FAULT_DEVICE = 'tw-fault-inject';
