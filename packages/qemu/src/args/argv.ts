// The whole QEMU command line (after the binary name) for one VM.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { ArgsError } from './errors.js';
import { flatNic, nicsNeedSharedMemory, type NicInput } from './nic.js';
import { placeNics } from './nic-placement.js';
import { renderMachineArgs, type MachineSpec } from './render-machine.js';
import { renderNicArgs } from './render-nic.js';

export interface QemuSpec {
  /** needsSharedMemory may be left out: any vhost-user NIC turns it on. */
  readonly machine: Omit<MachineSpec, 'needsSharedMemory'> & { readonly needsSharedMemory?: boolean };
  /** NicSpecs with the child's fd numbers (QemuNic), or the flat forms. */
  readonly nics: readonly NicInput[];
}

/**
 * Machine arguments first, then the NICs in order. Prepend the binary yourself.
 * NICs that do not fit on pcie.0 get root ports of their own (nic-placement.ts).
 */
export const renderQemuArgv = (spec: QemuSpec): E.Either<ArgsError, string[]> =>
  pipe(
    E.Do,
    E.bind('placement', () => placeNics(spec.nics.length, spec.machine)),
    E.bind('machine', ({ placement }) =>
      renderMachineArgs({
        ...spec.machine,
        ...(placement.nicPorts === 0 ? {} : { nicPorts: placement.nicPorts }),
        needsSharedMemory: spec.machine.needsSharedMemory === true || nicsNeedSharedMemory(spec.nics),
      }),
    ),
    // After the machine, so an accelerator other than kvm/tcg is already refused.
    E.bind('nics', ({ placement }) =>
      renderNicArgs(
        spec.nics.map((n, i) => {
          const bus = placement.buses[i];
          return bus === undefined ? n : { ...flatNic(n), bus };
        }),
        spec.machine.accel,
      ),
    ),
    E.map(({ machine, nics }) => [...machine, ...nics]),
  );
