// @tapwire/endpoints' one error union: what scan and scanUntilAttachable can
// fail with. humans read describeEndpointsError; callers above wrap it whole
// ({ _tag: 'Endpoints', error }) rather than re-tagging its members; sys's
// failures arrive here wrapped the same way ({ _tag: 'Sys', error }).
import { describeSysError } from '@tapwire/sys';
import type { DecodeError } from './decode-ip.js';
import type { ScanError } from './scan.js';
import type { Aborted, WaitTimedOut } from './scan-wait.js';

export type EndpointsError = ScanError | WaitTimedOut | Aborted;

export const describeDecodeError = (e: DecodeError): string => `could not decode ${e.input}: ${e.problems.slice(0, 3).join('; ')}`;

export const describeEndpointsError = (e: EndpointsError): string => {
  switch (e._tag) {
    case 'DecodeError':
      return describeDecodeError(e);
    case 'WaitTimedOut':
      return `no attachable link appeared in netns ${JSON.stringify(e.netns)} within ${e.waitedMs} ms (links seen: ${e.lastSeen.join(', ') || 'none'})`;
    case 'Aborted':
      return `${e.what} was aborted: ${e.reason}`;
    case 'Sys':
      return describeSysError(e.error);
  }
};
