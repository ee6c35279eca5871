import { describeArgsError, type ArgsError } from '../args/index.js';
import { describeGuestCmdlineError, describeGuestRoutingError, type GuestCmdlineError, type GuestRoutingFailed } from '../guest/index.js';
import { describeQmpError, type QmpError } from '../launch/qmp.js';
import type { ScanError, WaitTimedOut } from '@tapwire/endpoints';
import { describeNetmodelError, type NetmodelError } from '@tapwire/netmodel';
import type { SysError } from '@tapwire/sys';

export type LaunchError =
  | ScanError
  | WaitTimedOut
  | NetmodelError
  | SysError
  | ArgsError
  | GuestCmdlineError
  /** The guest came up but its routing is not the pod's: which routes, and why. */
  | GuestRoutingFailed
  | { readonly _tag: 'NothingToAttach'; readonly netns: string; readonly seen: readonly string[] }
  | { readonly _tag: 'VmFailed'; readonly accel: string; readonly detail: string; readonly consoleTail: string }
  /** QEMU started but never answered on QMP (or was not running): it was stopped. */
  | { readonly _tag: 'VmNotReady'; readonly accel: string; readonly cause: QmpError; readonly stderr: string };

const ARGS_TAGS: ReadonlySet<string> = new Set(['InvalidValue', 'DuplicateValue', 'FdCountMismatch', 'VfioNotBound']);
const GUEST_TAGS: ReadonlySet<string> = new Set(['InvalidGuestValue', 'DuplicateGuestValue', 'GuestCmdlineTooLong']);

export const describeLaunchError = (e: LaunchError): string => {
  switch (e._tag) {
    case 'NothingToAttach':
      return `netns ${JSON.stringify(e.netns)} has no attachable link (${e.seen.join('; ') || 'no links'})`;
    case 'VmFailed':
      return `the VM (${e.accel}) failed: ${e.detail}${e.consoleTail === '' ? '' : `\n--- last console lines ---\n${e.consoleTail}`}`;
    case 'VmNotReady':
      return `QEMU (${e.accel}) was not ready on QMP, so it was stopped: ${describeQmpError(e.cause)}${e.stderr === '' ? '' : ` (${e.stderr})`}`;
    case 'GuestRoutingFailed':
      return describeGuestRoutingError(e);
    case 'WaitTimedOut':
      return `no attachable link appeared in netns ${JSON.stringify(e.netns)} within ${e.waitedMs} ms`;
    case 'DecodeError':
      return `could not decode ${e.input}: ${e.problems.slice(0, 3).join('; ')}`;
    default:
      if (ARGS_TAGS.has(e._tag)) return describeArgsError(e as ArgsError);
      if (GUEST_TAGS.has(e._tag)) return describeGuestCmdlineError(e as GuestCmdlineError);
      // NetmodelError covers the plan, netns and syscall failures (it falls back to SysError's text).
      return describeNetmodelError(e as NetmodelError);
  }
};
