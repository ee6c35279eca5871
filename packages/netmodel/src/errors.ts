// Every failure of netmodel as a tagged value; humans read describeNetmodelError.
import { describeEndpointsError, type EndpointsError } from '@tapwire/endpoints';
import { describeSysError, type SysError } from '@tapwire/sys';
import type { Finding } from './findings.js';
import type { Model } from './model.js';

/** Failures of the pure planner: nothing was read or changed. */
export type PlanError =
  | { readonly _tag: 'BadQueues'; readonly input: string; readonly expected: string }
  | { readonly _tag: 'BadTapName'; readonly input: string; readonly expected: string }
  | { readonly _tag: 'BadModel'; readonly input: string; readonly expected: string }
  | { readonly _tag: 'BadOwnership'; readonly field: 'owner' | 'group'; readonly input: string; readonly expected: string }
  | { readonly _tag: 'ModelNotSupported'; readonly link: string; readonly kind: string; readonly model: Model; readonly supported: readonly Model[] }
  | { readonly _tag: 'PassThroughOnly'; readonly link: string; readonly kind: string }
  | { readonly _tag: 'NotAttachable'; readonly link: string; readonly kind: string; readonly reason: string }
  | { readonly _tag: 'QueuesNotSupported'; readonly link: string; readonly queues: number; readonly why: string }
  | { readonly _tag: 'MtuNotSupported'; readonly link: string; readonly mtu: number; readonly min: number; readonly max: number; readonly device: 'tap' | 'macvtap' }
  | { readonly _tag: 'AliasTooLong'; readonly link: string; readonly bytes: number; readonly max: number }
  | { readonly _tag: 'NotEncodable'; readonly link: string; readonly what: string; readonly value: string };

export type NetmodelError =
  | PlanError
  /** @tapwire/sys failed (resolving, locking, running ip/tc, netlink): wrapped whole. */
  | { readonly _tag: 'Sys'; readonly error: SysError }
  /** Reading the netns back: ip/tc JSON that did not decode (@tapwire/endpoints' DecodeError), wrapped whole. */
  | { readonly _tag: 'Endpoints'; readonly error: EndpointsError }
  | { readonly _tag: 'LinkNotFound'; readonly netns: string; readonly link: string }
  | { readonly _tag: 'ForeignLinkExists'; readonly netns: string; readonly name: string; readonly detail: string }
  | { readonly _tag: 'ForeignIngressQdisc'; readonly netns: string; readonly link: string }
  /** The link already has a tapwire attachment other than the one asked for (found under the netns lock). */
  | {
      readonly _tag: 'AlreadyAttached';
      readonly netns: string;
      readonly link: string;
      readonly tapName: string;
      readonly model: Model;
      readonly queues: number;
      readonly asked: { readonly tapName: string; readonly model: Model; readonly queues: number };
    }
  | { readonly _tag: 'AttachmentDrifted'; readonly netns: string; readonly link: string; readonly tapName: string; readonly findings: readonly Finding[] }
  | {
      readonly _tag: 'ApplyFailed';
      readonly netns: string;
      readonly phase: number;
      /** 1-based op within the phase, or undefined when the tool did not say which line failed. */
      readonly step: number | undefined;
      readonly what: string;
      readonly cause: SysError;
      /** Errors of the rollback itself; empty when everything done was undone. */
      readonly rollbackErrors: readonly string[];
    }
  | { readonly _tag: 'DetachFailed'; readonly netns: string; readonly target: string; readonly cause: SysError }
  /** The caller's AbortSignal fired between two steps: nothing of this call is left in the netns. */
  | { readonly _tag: 'Aborted'; readonly what: string; readonly reason: string };

const q = JSON.stringify;

export const describeNetmodelError = (e: NetmodelError): string => {
  switch (e._tag) {
    case 'BadQueues':
      return `bad queue count ${q(e.input)}: expected ${e.expected}`;
    case 'BadTapName':
      return `bad tap name ${q(e.input)}: expected ${e.expected}`;
    case 'BadModel':
      return `bad model ${q(e.input)}: expected ${e.expected}`;
    case 'BadOwnership':
      return `bad tap ${e.field} ${JSON.stringify(e.input)}: expected ${e.expected}`;
    case 'ModelNotSupported':
      return `link ${q(e.link)} is a ${e.kind} endpoint: model ${e.model} is not supported for it (supported: ${e.supported.join(', ') || 'none'})`;
    case 'PassThroughOnly':
      return `link ${q(e.link)} is a ${e.kind} endpoint: it is passed through to the VM as it is, no network model applies`;
    case 'NotAttachable':
      return `link ${q(e.link)} (${e.kind}) is not attachable: ${e.reason}`;
    case 'QueuesNotSupported':
      return `link ${q(e.link)}: ${e.queues} queues not possible: ${e.why}`;
    case 'MtuNotSupported':
      return `link ${q(e.link)} has MTU ${e.mtu}, but a ${e.device} takes ${e.min} to ${e.max}${e.device === 'tap' && e.mtu > e.max ? ' (use model macvtap, or lower the link\'s MTU)' : ''}`;
    case 'AliasTooLong':
      return `link ${q(e.link)}: the restore record needs ${e.bytes} bytes but a link alias holds at most ${e.max}; refusing before changing anything (too many addresses or routes for model macvtap)`;
    case 'NotEncodable':
      return `link ${q(e.link)}: cannot record ${e.what} ${q(e.value)} for detach`;
    case 'LinkNotFound':
      return `netns ${q(e.netns)} has no link ${q(e.link)}`;
    case 'ForeignLinkExists':
      return `netns ${q(e.netns)} already has a link ${q(e.name)} that is not this attachment: ${e.detail}`;
    case 'ForeignIngressQdisc':
      return `link ${q(e.link)} in netns ${q(e.netns)} already has an ingress qdisc tapwire did not make; refusing to touch it (model tcfilter needs its own)`;
    case 'AlreadyAttached': {
      const differs = [
        ...(e.tapName === e.asked.tapName ? [] : [`tap ${e.asked.tapName}`]),
        ...(e.model === e.asked.model ? [] : [`model ${e.asked.model}`]),
        ...(e.queues === e.asked.queues ? [] : [`${e.asked.queues} queue(s)`]),
      ];
      return `link ${q(e.link)} in netns ${q(e.netns)} is already attached by tapwire through ${e.tapName} (model ${e.model}, ${e.queues} queue(s)), not as asked (${differs.join(', ')}); detach it first`;
    }
    case 'AttachmentDrifted':
      return `link ${q(e.link)} in netns ${q(e.netns)} has a tapwire attachment (${e.tapName}) that drifted: ${e.findings.map((f) => f.message).join('; ')}; detach it first`;
    case 'ApplyFailed':
      return `netns ${q(e.netns)}: phase ${e.phase}${e.step === undefined ? '' : ` step ${e.step}`} (${e.what}) failed: ${describeSysError(e.cause)}; ${
        e.rollbackErrors.length === 0 ? 'everything done was undone' : `rollback incomplete: ${e.rollbackErrors.join('; ')}`
      }`;
    case 'DetachFailed':
      return `netns ${q(e.netns)}: detaching ${q(e.target)} failed: ${describeSysError(e.cause)}`;
    case 'Aborted':
      return `${e.what} was aborted (${e.reason}); nothing of it is left in the netns`;
    case 'Sys':
      return describeSysError(e.error);
    case 'Endpoints':
      return describeEndpointsError(e.error);
  }
};

/** Refusals of a value the caller gave (a queue count, tap name, model): the CLI's exit code 2. Kept here, beside the union. */
const BAD_INPUT: ReadonlySet<NetmodelError['_tag']> = new Set<NetmodelError['_tag']>(['BadQueues', 'BadTapName', 'BadModel']);
export const isBadInput = (e: NetmodelError): boolean => BAD_INPUT.has(e._tag);

/** Wrappers, so call sites read as the layer they cross. */
export const fromSys = (error: SysError): NetmodelError => ({ _tag: 'Sys', error });
export const fromEndpoints = (error: EndpointsError): NetmodelError => ({ _tag: 'Endpoints', error });
