// Every failure of @tapwire/libvirt as a tagged value. Lower layers' errors are
// wrapped whole, so their own describe stays the one that explains them.
import { describeEndpointsError, type EndpointsError } from '@tapwire/endpoints';
import { describeNetmodelError, type NetmodelError } from '@tapwire/netmodel';
import { describeConsoleParseError, describeGuestCmdlineError, describeGuestRoutingError, describeQemuError, type ConsoleParseError, type GuestCmdlineError, type GuestRoutingFailed, type QemuError } from '@tapwire/qemu';
import { describeSysError, type SysError } from '@tapwire/sys';
import { describeRenderError, describeVmError, type RenderError, type VmError } from '@tapwire/vm';

export type LibvirtError =
  | { readonly _tag: 'Sys'; readonly error: SysError }
  | { readonly _tag: 'Endpoints'; readonly error: EndpointsError }
  | { readonly _tag: 'Netmodel'; readonly error: NetmodelError }
  | { readonly _tag: 'Vm'; readonly error: VmError }
  /** A step shared with the direct QEMU launch (attaching the pod) failed. */
  | { readonly _tag: 'Qemu'; readonly error: QemuError }
  | { readonly _tag: 'Render'; readonly error: RenderError }
  | { readonly _tag: 'GuestCmdline'; readonly error: GuestCmdlineError }
  | { readonly _tag: 'NothingToAttach'; readonly netns: string; readonly seen: readonly string[] }
  /** libvirtd did not come up (or died): what we saw and the end of its log. */
  | { readonly _tag: 'DaemonFailed'; readonly detail: string; readonly logTail: string }
  /** A virsh call the daemon refused. */
  | { readonly _tag: 'VirshFailed'; readonly argv: readonly string[]; readonly stderr: string }
  /** The pod's device is not what libvirt would open (a macvtap without a tap node, a link gone). */
  | { readonly _tag: 'DeviceNotFound'; readonly netns: string; readonly device: string; readonly detail: string }
  /** The guest never reported done, or its report says it failed. */
  | { readonly _tag: 'GuestFailed'; readonly detail: string; readonly consoleTail: string }
  | { readonly _tag: 'Console'; readonly error: ConsoleParseError }
  | { readonly _tag: 'Routing'; readonly error: GuestRoutingFailed }
  /** SIGINT/SIGTERM or the caller's AbortSignal: everything was torn down. */
  | { readonly _tag: 'Interrupted'; readonly reason: string }
  /** Things left behind on the way out: each one named. */
  | { readonly _tag: 'Leftovers'; readonly what: readonly string[] };

export const describeLibvirtError = (e: LibvirtError): string => {
  switch (e._tag) {
    case 'Sys':
      return describeSysError(e.error);
    case 'Endpoints':
      return describeEndpointsError(e.error);
    case 'Netmodel':
      return describeNetmodelError(e.error);
    case 'Vm':
      return describeVmError(e.error);
    case 'Qemu':
      return describeQemuError(e.error);
    case 'Render':
      return describeRenderError(e.error);
    case 'GuestCmdline':
      return describeGuestCmdlineError(e.error);
    case 'NothingToAttach':
      return `netns ${JSON.stringify(e.netns)} has no endpoint to give the VM (${e.seen.join('; ') || 'no links'})`;
    case 'DaemonFailed':
      return `private libvirtd: ${e.detail}${e.logTail === '' ? '' : `\n${e.logTail}`}`;
    case 'VirshFailed':
      return `virsh ${e.argv.join(' ')}: ${e.stderr.trim()}`;
    case 'DeviceNotFound':
      return `netns ${JSON.stringify(e.netns)}: device ${JSON.stringify(e.device)}: ${e.detail}`;
    case 'GuestFailed':
      return `the guest did not finish: ${e.detail}${e.consoleTail === '' ? '' : `\n${e.consoleTail}`}`;
    case 'Console':
      return describeConsoleParseError(e.error);
    case 'Routing':
      return describeGuestRoutingError(e.error);
    case 'Interrupted':
      return `interrupted (${e.reason}); the domain, the daemon and the attachments were removed`;
    case 'Leftovers':
      return `left behind: ${e.what.join('; ')}`;
  }
};

export const sysError = (error: SysError): LibvirtError => ({ _tag: 'Sys', error });
