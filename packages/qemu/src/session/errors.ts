// A launch fails with @tapwire/qemu's one error union (../errors.ts); the old
// names stay for callers written before it.
import { describeQemuError, type QemuError } from '../errors.js';

export type LaunchError = QemuError;
export const describeLaunchError: (e: LaunchError) => string = describeQemuError;
