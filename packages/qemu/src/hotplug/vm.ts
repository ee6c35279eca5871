// A running VM as hotplug needs it: the handle's QMP connection, and the
// guest control channel fed by the handle's console.
import * as E from 'fp-ts/lib/Either.js';
import type { Accel } from '../args/render-nic.js';
import { connectGuestControl, consoleWatch, type ConsoleWatch, type GuestControlError } from '../guest/control.js';
import type { VmHandle } from '../vm/handle.js';
import type { HotVm } from './hot-attach.js';

export interface HotVmOf extends HotVm {
  /** The guest's console reports so far, and a way to wait for one. */
  readonly watch: ConsoleWatch;
  readonly close: () => void;
}

/** Connects to the VM's control socket (render-machine.ts controlSocket) and watches its console. */
export const hotVmOf = async (vm: Pick<VmHandle, 'qmp' | 'console'>, controlSocket: string, accel: Accel, timeoutMs: number): Promise<E.Either<GuestControlError, HotVmOf>> => {
  const watch = consoleWatch();
  // history() then on(): nothing arrives in between (one synchronous turn).
  for (const chunk of vm.console.history()) watch.feed(chunk);
  const off = vm.console.on(watch.feed);
  const control = await connectGuestControl(controlSocket, watch, timeoutMs);
  if (E.isLeft(control)) {
    off();
    return control;
  }
  return E.right({
    qmp: vm.qmp,
    control: control.right,
    accel,
    watch,
    close: () => {
      off();
      control.right.close();
    },
  });
};
