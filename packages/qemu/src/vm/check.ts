// A runtime's saved NIC state (@tapwire/vm NicState) checked against the
// netns and a running QEMU: its query-pci must still list every NIC at its
// saved address (by the device id the NIC's id gave it).
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { checkNicState, type NicState, type NicStateCheck, type VmError } from '@tapwire/vm';
import type { NetnsHandle } from '@tapwire/sys';
import type { Qmp } from '../launch/qmp.js';
import type { QemuError } from '../errors.js';
import { queryPciFunctions } from './query-pci.js';

/** Without a QMP connection only the netns is checked. */
export const checkVmNicState = (ns: NetnsHandle, state: NicState, qmp?: Qmp): TE.TaskEither<VmError | QemuError, NicStateCheck> =>
  checkNicState<QemuError>(ns, state, qmp === undefined ? {} : { pci: queryPciFunctions(qmp) });
