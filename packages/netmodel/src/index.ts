// Public API of netmodel: plan (pure), render, attach/detach/check (effects).
//
// Decisions, in one place:
// - queues: 1..256 (MAX_QUEUES = the kernel's MAX_TAP_QUEUES for tun and
//   macvtap); >1 means a multi_queue tap. 0, 257, 1025 are BadQueues.
// - Device name: tw<endpoint ifindex> (unique per netns, so a second attach
//   finds the first one's device). An override must be 1-15 bytes without
//   '/', ':' or whitespace, not '.'/'..'. The name tw<N> is tapwire's: a
//   device so named that is exactly what the creating line alone makes (no
//   alias, down, untouched; half-made.ts) is an attach that died before it
//   wrote its record, and detach removes it.
// - What detach restores lives in the alias of the device tapwire made
//   (record.ts); no state files. If model macvtap's MAC + addresses + routes do
//   not fit IFALIASZ (255 bytes), plan refuses (AliasTooLong) before anything
//   changes.
// - tcfilter refuses a link that already has an ingress qdisc tapwire did not
//   make (ForeignIngressQdisc): detach deletes the link's ingress qdisc, which
//   is then exactly what attach added.
// - macvtap lends the link's MAC to the macvtap and gives the link lentMac(mac),
//   a locally administered MAC derived by hash (plan stays pure). On a macvlan
//   endpoint the kernel puts the macvtap on the macvlan's own lower device.
//   Restored: MAC, addresses (local/prefix, broadcast, scope; not flags,
//   labels or lifetimes), and non-kernel routes through the link in any table
//   but local (single-nexthop routes only).
// - The tap/macvtap copies the link's MTU: plan refuses one the device cannot
//   take (MtuNotSupported: a tap 68..65521, a macvtap 68..65535), rather than
//   failing half way through the ip batch.
// - none changes nothing: the tap (or macvtap) is handed over as is.
// - A tcfilter tap gets a noqueue root qdisc before it goes up (plan.ts):
//   the default a multi_queue tap would get is 256 pfifo_fast that never
//   hold a packet, and make attach and detach ~1.5 ms a tap slower. The
//   tap goes up last, in a phase of its own (ip, tc, ip).
// - A tcfilter tap has an owner and group (ownership.ts): by default this
//   process's euid/egid, so no other uid in the netns can attach a queue of
//   it (the kernel lets anyone in when neither is set); null opts out.
// - attach*/detach* hold the netns's lock (lock.ts, @tapwire/sys flock keyed
//   by the netns's dev+inode) from reading to their last change: a second
//   process waits (15 s, then NetnsBusy naming the holder) and then sees the
//   first one's finished work (existing, or AlreadyAttached). check does not lock.
// - Executor (executor.ts): by default everything goes over rtnetlink from
//   this process (no spawn at all: dumps to read, taps by tun ioctls, every
//   phase's requests pipelined on one socket with per-op acks); `executor:
//   'iproute2'` runs the same ops as ip/tc -batch processes, costed below.
//   Both give the same netns (executor-oracle.test.ts).
// - Cost, whatever the number of endpoints: attach/attachAll read the netns
//   in 2 spawns (ip, tc), decide every endpoint, and apply all plans merged
//   phase by phase (merge.ts), 1 spawn per phase (tcfilter 3, macvtap 1), as
//   one transaction: a failure at line k of a merged batch undoes lines
//   k-1..1 and then the earlier phases, across endpoints. detach/detachAll:
//   2 + 1 per tool with work; two or more devices are deleted in one request
//   (moved into DETACH_GROUP, then `link del group`, unless a foreign link is
//   in that group), since the kernel's unregister costs ~25-40 ms a device
//   and is shared by a batch. Only a name -batch cannot carry ('#', blanks)
//   makes @tapwire/sys fall back to one spawn per command.
// - Crash safety: the record is written by the line after the one creating
//   the device, every later line comes after it, and undo and detach remove
//   the device (and so the record) last; a process (group) killed at any
//   point leaves a netns that detach restores - with the default tap name
//   (a --tap-name device killed before its record is not claimed).
export type { Argv, Attachment, Model, Op, Phase, Plan, Tool } from './model.js';
export { MODELS, MAX_QUEUES, MAX_IFNAME_BYTES, MAX_ALIAS_BYTES, MTU_RANGE, DETACH_GROUP } from './model.js';
export type { NetmodelError, PlanError } from './errors.js';
export { describeNetmodelError, isBadInput } from './errors.js';
export type { Finding } from './findings.js';
export { defaultTapName, validateTapName, validateQueues, parseQueues } from './names.js';
export type { PlanOptions } from './plan.js';
export { plan, lentMac, txqlenToKeep, SUPPORTED_MODELS } from './plan.js';
export { renderPlan, renderUndo, renderCommand, shellQuote } from './render.js';
export type { AttachRecord } from './record.js';
export { encodeRecord, decodeRecord } from './record.js';
export type { ApplyOptions, FailAt } from './apply.js';
export { applyPlan, applyPhases, FAULT_DEVICE } from './apply.js';
export type { AttachOptions, Decision } from './attach.js';
export { attach, attachMany, decide } from './attach.js';
export { mergePhases } from './merge.js';
export type { HalfMade } from './half-made.js';
export { halfMadeDevices } from './half-made.js';
export type { CheckReport, DetachOptions, DetachReport, DetachTarget } from './detach.js';
export type { LockOption } from './lock.js';
export type { Ownership, TapId } from './ownership.js';
export { parseTapId, processOwnership, resolveOwnership } from './ownership.js';
export { detach, detachAll, check } from './detach.js';
export type { NetmodelProgress, NetmodelOperation, ProgressOptions } from './progress.js';
export { attachAll, wantsModel, modelFor } from './attach-all.js';
export type { NetnsView } from './state.js';
export { readNetns, netnsState } from './state.js';
export type { Executor } from './executor.js';
export { DEFAULT_EXECUTOR } from './executor.js';
// The record's words as data again (what a reader of a macvtap record needs).
export type { AddrSpec, RouteSpec } from './action.js';
export { addrSpecOfWords, routeSpecOfWords } from './action.js';
// A pod attached before a launch, as every launch path sees it (attached-pod.ts).
export type { PlannedOptions } from './attached-pod.js';
export { attachedIfindexes, attachedAs, endpointsToAttach, usableEndpoints, plannedAttachmentsIn, plannedAttachments, podAsAttached, networkOf } from './attached-pod.js';
