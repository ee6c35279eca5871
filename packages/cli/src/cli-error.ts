import { describeEndpointsError, type EndpointsError } from '@tapwire/endpoints';
import { describeNetmodelError, isBadInput, type NetmodelError } from '@tapwire/netmodel';
import { describeSysError, type SysError } from '@tapwire/sys';
// Type only: a value import would evaluate @tapwire/qemu for every verb (verbs load lazily).
import type { QemuError } from '@tapwire/qemu';

/** Every way a CLI run can fail, with the exit code it maps to. */
export type CliError =
  | { readonly _tag: 'Usage'; readonly message: string }
  | { readonly _tag: 'Failed'; readonly message: string }
  /** Resolving or locking the netns (before any scan): sys's own failure, as it is. */
  | SysError
  /** scan / scanUntilAttachable failed: endpoints' union (sys's failures inside it wrapped as Sys). */
  | EndpointsError
  /** plan/attach/detach/check failed (wrapped: its tags overlap SysError's). */
  | { readonly _tag: 'Netmodel'; readonly error: NetmodelError }
  /**
   * A launch (scan, attach, VM) failed: @tapwire/qemu's union, wrapped whole,
   * with describeQemuError's text made where qemu is loaded anyway (qemuFailure).
   */
  | { readonly _tag: 'Qemu'; readonly error: QemuError; readonly message: string }
  /** check found drift (already printed). */
  | { readonly _tag: 'Drift'; readonly findings: number };

export const usage = (message: string): CliError => ({ _tag: 'Usage', message });

/** 2: the command line was wrong; 3: the netns could not be used; 1: anything else. */
export const exitCodeOf = (e: CliError): number => {
  switch (e._tag) {
    case 'Usage':
    case 'BadNetnsSpec':
      return 2;
    case 'NetnsNotFound':
    case 'NotANetns':
    case 'NetnsPermission':
      return 3;
    case 'Sys':
      return exitCodeOf(e.error);
    case 'Netmodel':
      return isBadInput(e.error) ? 2 : 1;
    case 'Qemu':
      return e.error._tag === 'Netmodel' && isBadInput(e.error.error) ? 2 : 1;
    default:
      return 1;
  }
};

export const describeCliError = (e: CliError): string => {
  switch (e._tag) {
    case 'Usage':
    case 'Failed':
      return e.message;
    case 'Netmodel':
      return describeNetmodelError(e.error);
    case 'Qemu':
      return e.message;
    case 'Drift':
      return `${e.findings} finding(s) of drift`;
    case 'Sys':
    case 'DecodeError':
    case 'WaitTimedOut':
    case 'Aborted':
      return describeEndpointsError(e);
    default:
      return describeSysError(e);
  }
};
