// @tapwire/qemu's one error union. Failures of a lower layer (netmodel, sys,
// endpoints, vm) and of this package's own parts (argument renderer, guest
// command line, QMP, hotplug) are wrapped whole as { _tag: <layer>, error }, so each is
// described by its own describe; only what the VM itself does gets a tag here.
import { describeArgsError, type ArgsError } from './args/index.js';
import { describeGuestCmdlineError, describeGuestRoutingError, type GuestCmdlineError, type GuestRoutingFailed } from './guest/index.js';
import { describeQmpError, type QmpError } from './launch/qmp.js';
import { describeHotAttachError, type HotAttachError } from './hotplug/hot-attach.js';
import { describeEndpointsError, type EndpointsError } from '@tapwire/endpoints';
import { describeNetmodelError, type NetmodelError } from '@tapwire/netmodel';
import { describeSysError, type SysError } from '@tapwire/sys';
import { describeVmError, type VmError } from '@tapwire/vm';

export type QemuError =
  | { readonly _tag: 'Endpoints'; readonly error: EndpointsError }
  | { readonly _tag: 'Netmodel'; readonly error: NetmodelError }
  | { readonly _tag: 'Sys'; readonly error: SysError }
  | { readonly _tag: 'Vm'; readonly error: VmError }
  | { readonly _tag: 'Args'; readonly error: ArgsError }
  | { readonly _tag: 'GuestCmdline'; readonly error: GuestCmdlineError }
  | { readonly _tag: 'Qmp'; readonly error: QmpError }
  /**
   * Hotplug/unplug on a running VM: the hotplug module's union (HotAttachError,
   * which itself wraps the QMP-step HotplugError whole), described by describeHotAttachError.
   */
  | { readonly _tag: 'Hotplug'; readonly error: HotAttachError }
  /** The guest came up but its routing is not the pod's: which routes, and why. */
  | GuestRoutingFailed
  | { readonly _tag: 'NothingToAttach'; readonly netns: string; readonly seen: readonly string[] }
  | { readonly _tag: 'VmFailed'; readonly accel: string; readonly detail: string; readonly consoleTail: string }
  /** QEMU started but never answered on QMP (or was not running): it was stopped. */
  | { readonly _tag: 'VmNotReady'; readonly accel: string; readonly cause: QmpError; readonly stderr: string }
  /** QEMU could not be started, or exited before it was ready. */
  | { readonly _tag: 'VmStartFailed'; readonly detail: string; readonly stderr: string }
  | { readonly _tag: 'Aborted'; readonly what: string; readonly reason: string };

export const describeQemuError = (e: QemuError): string => {
  switch (e._tag) {
    case 'Endpoints':
      return describeEndpointsError(e.error);
    case 'Netmodel':
      return describeNetmodelError(e.error);
    case 'Sys':
      return describeSysError(e.error);
    case 'Vm':
      return describeVmError(e.error);
    case 'Args':
      return describeArgsError(e.error);
    case 'GuestCmdline':
      return describeGuestCmdlineError(e.error);
    case 'Qmp':
      return describeQmpError(e.error);
    case 'Hotplug':
      return describeHotAttachError(e.error);
    case 'GuestRoutingFailed':
      return describeGuestRoutingError(e);
    case 'NothingToAttach':
      return `netns ${JSON.stringify(e.netns)} has no attachable link (${e.seen.join('; ') || 'no links'})`;
    case 'VmFailed':
      return `the VM (${e.accel}) failed: ${e.detail}${e.consoleTail === '' ? '' : `\n--- last console lines ---\n${e.consoleTail}`}`;
    case 'VmNotReady':
      return `QEMU (${e.accel}) was not ready on QMP, so it was stopped: ${describeQmpError(e.cause)}${e.stderr === '' ? '' : ` (${e.stderr})`}`;
    case 'VmStartFailed':
      return `QEMU did not start: ${e.detail}${e.stderr === '' ? '' : ` (${e.stderr})`}`;
    case 'Aborted':
      return `${e.what} was aborted: ${e.reason}`;
  }
};

/** Wrappers, so call sites read as the layer they cross. */
export const fromNetmodel = (error: NetmodelError): QemuError => ({ _tag: 'Netmodel', error });
export const fromSys = (error: SysError): QemuError => ({ _tag: 'Sys', error });
export const fromVm = (error: VmError): QemuError => ({ _tag: 'Vm', error });
export const fromArgs = (error: ArgsError): QemuError => ({ _tag: 'Args', error });
export const fromGuestCmdline = (error: GuestCmdlineError): QemuError => ({ _tag: 'GuestCmdline', error });
export const fromQmp = (error: QmpError): QemuError => ({ _tag: 'Qmp', error });
export const fromHotplug = (error: HotAttachError): QemuError => ({ _tag: 'Hotplug', error });
export const fromEndpoints = (error: EndpointsError): QemuError => ({ _tag: 'Endpoints', error });
