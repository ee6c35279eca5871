// A running VM as hotplug needs it: the handle's QMP connection, and the
// guest control channel fed by the handle's console.
import * as E from 'fp-ts/lib/Either.js';
import type { Accel } from '../args/render-nic.js';
import { connectGuestControl, consoleWatch, type ConsoleWatch, type GuestControlError } from '../guest/control.js';
import type { VmHandle } from '../vm/handle.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { NetnsHandle } from '@tapwire/sys';
import { hotAttach, hotDetach, type HotAttached, type HotAttachError, type HotAttachOptions, type HotAttachResult, type HotDetachOptions, type HotVm } from './hot-attach.js';

export interface HotVmOf extends HotVm {
  /** The guest's console reports so far, and a way to wait for one. */
  readonly watch: ConsoleWatch;
  readonly close: () => void;
}

/** Connects to the VM's control socket (render-machine.ts controlSocket) and watches its console. */
export const hotVmOf = (vm: Pick<VmHandle, 'qmp' | 'console'>, controlSocket: string, accel: Accel, timeoutMs: number): TE.TaskEither<GuestControlError, HotVmOf> => async () => {
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

/** hotAttach, then the NIC goes into the handle's NIC table (with its PCI address). */
export const hotAdd =
  (vm: Pick<VmHandle, 'nics'>, hot: HotVm, ns: NetnsHandle, link: string, o: HotAttachOptions): TE.TaskEither<HotAttachError, HotAttachResult> =>
  async () => {
    const r = await hotAttach(hot, ns, link, o)();
    if (E.isRight(r)) vm.nics.put(r.right.spec);
    return r;
  };

/** hotDetach, then the NIC leaves the handle's NIC table (once QEMU deleted the device). */
export const hotRemove =
  (vm: Pick<VmHandle, 'nics'>, hot: HotVm, ns: NetnsHandle, a: HotAttached, o: HotDetachOptions = {}): TE.TaskEither<HotAttachError, { readonly guestConfirmed: boolean }> =>
  async () => {
    const r = await hotDetach(hot, ns, a, o)();
    if (E.isRight(r) || r.left._tag !== 'Hotplug') vm.nics.remove(a.spec.id);
    return r;
  };
