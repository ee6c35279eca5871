// The attachment models and the typed plan they produce. A plan is data: an
// ordered list of phases (one -batch process each), every operation carrying
// the commands that undo it, so the same value renders, applies and rolls back.

import type { Action } from './action.js';

export const MODELS = ['tcfilter', 'macvtap', 'none'] as const;
export type Model = (typeof MODELS)[number];

export type Tool = 'ip' | 'tc';
export type Argv = readonly string[];

export interface Op {
  /** A short sentence for humans and error messages. */
  readonly what: string;
  /** The tool's argv, without the tool name (a -batch line). */
  readonly argv: Argv;
  /** Commands that undo this op once it took effect, run in this order (with -force). */
  readonly undo: readonly Argv[];
  /** tc qdisc changes can hit EBUSY while the device is busy: retry those. */
  readonly retryOnBusy?: boolean;
  /** What argv does, as data (action.ts): the netlink executor's input; argv is rendered from it. */
  readonly action: Action;
  /** What undo does, as data, in the same order. */
  readonly undoActions: readonly Action[];
}

export interface Phase {
  readonly tool: Tool;
  readonly ops: readonly Op[];
}

/** What the VM side needs to know about one attachment. */
export interface Attachment {
  /** The endpoint link's name in the netns. */
  readonly link: string;
  readonly model: Model;
  /** The device the VM opens: a tap, a macvtap, or (model none) the endpoint itself. */
  readonly tapName: string;
  readonly queues: number;
  readonly multiQueue: boolean;
  /** The MAC the VM's NIC must use: the endpoint's original MAC. */
  readonly guestMac: string;
  readonly mtu: number;
  readonly device: 'tap' | 'macvtap';
  /** True when attach found this attachment already in place and changed nothing. */
  readonly existing?: boolean;
}

export interface Plan extends Omit<Attachment, 'existing'> {
  readonly ifindex: number;
  /** The alias recorded on the device tapwire creates (undefined for model none). */
  readonly alias: string | undefined;
  /** Who may attach queues to the tap tapwire creates (tcfilter); undefined: not restricted by it. */
  readonly owner: number | undefined;
  readonly group: number | undefined;
  readonly phases: readonly Phase[];
}

/** Linux's tun and macvtap drivers cap a device at MAX_TAP_QUEUES = 256 queues (one constant, @tapwire/sys's). */
export { MAX_QUEUES } from '@tapwire/sys';
/** The MTUs the device can copy: ETH_MIN_MTU up to the tun driver's 65535 - ETH_HLEN, or a macvlan's ETH_MAX_MTU. */
export const MTU_RANGE = { tap: { min: 68, max: 65521 }, macvtap: { min: 68, max: 65535 } } as const;
/**
 * The link group ("tw") detach moves the devices it removes into, to delete
 * them all in one RTM_DELLINK: the kernel then unregisters them together,
 * one RCU grace period for all instead of ~25-40 ms each.
 */
export const DETACH_GROUP = 0x7477;
/** IFNAMSIZ 16 including the NUL. */
export const MAX_IFNAME_BYTES = 15;
/** IFALIASZ 256 including the NUL. */
export const MAX_ALIAS_BYTES = 255;
