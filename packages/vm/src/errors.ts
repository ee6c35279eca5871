// Every failure of @tapwire/vm as a tagged value. A lower layer's error is
// wrapped whole ({ _tag: 'Netmodel', error }), never re-tagged, so its own
// describe stays the one that explains it.
import { describeEndpointsError, type ScanError } from '@tapwire/endpoints';
import { describeNetmodelError, type NetmodelError } from '@tapwire/netmodel';
import { describeSysError, type SysError } from '@tapwire/sys';
import { describeRenderError, type RenderError } from './render/errors.js';

export type VmError =
  | { readonly _tag: 'Netmodel'; readonly error: NetmodelError }
  | { readonly _tag: 'Sys'; readonly error: SysError }
  | { readonly _tag: 'Endpoints'; readonly error: ScanError }
  /** A VMM renderer (render/) refused a NicSpec: its own union, wrapped whole. */
  | { readonly _tag: 'Render'; readonly error: RenderError }
  /** An attachment names a device the netns does not have (detached, or deleted by someone). */
  | { readonly _tag: 'DeviceNotFound'; readonly netns: string; readonly device: string }
  /** Saved state that does not decode: where it came from and what was wrong. */
  | { readonly _tag: 'BadState'; readonly source: string; readonly problems: readonly string[] }
  | { readonly _tag: 'Aborted'; readonly what: string; readonly reason: string };

export const describeVmError = (e: VmError): string => {
  switch (e._tag) {
    case 'Netmodel':
      return describeNetmodelError(e.error);
    case 'Sys':
      return describeSysError(e.error);
    case 'Endpoints':
      return describeEndpointsError(e.error);
    case 'Render':
      return describeRenderError(e.error);
    case 'DeviceNotFound':
      return `netns ${JSON.stringify(e.netns)} has no device ${JSON.stringify(e.device)}: was it detached or deleted?`;
    case 'BadState':
      return `saved NIC state ${e.source} does not decode: ${e.problems.slice(0, 3).join('; ')}`;
    case 'Aborted':
      return `${e.what} was aborted: ${e.reason}`;
  }
};

export const netmodelError = (error: NetmodelError): VmError => ({ _tag: 'Netmodel', error });
export const sysError = (error: SysError): VmError => ({ _tag: 'Sys', error });
export const renderError = (error: RenderError): VmError => ({ _tag: 'Render', error });

/** The reason an AbortSignal carries, as text. */
export const abortReason = (signal: AbortSignal): string => {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'aborted';
};

export const abortedError = (what: string, signal: AbortSignal): VmError => ({ _tag: 'Aborted', what, reason: abortReason(signal) });
