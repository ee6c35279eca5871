// detach and check: everything needed comes from the netns itself (the alias
// record), so they work from a fresh process, and are idempotent.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { inNetnsSync, runBatch, type NetnsHandle } from '@tapwire/sys';
import { argvOf, type Action } from './action.js';
import { DEFAULT_EXECUTOR, type Executor } from './executor.js';
import { runActions, withNetlink } from './netlink-run.js';
import type { NetmodelError } from './errors.js';
import type { Finding } from './findings.js';
import { attachmentOfHalfMade, halfMadeDevices, halfMadeFinding, type HalfMade } from './half-made.js';
import { attachmentOf, detachCommands, findAttachments, findingsOf, type Found } from './inventory.js';
import { DETACH_GROUP, type Argv, type Attachment } from './model.js';
import { defaultTapName } from './names.js';
import { renderCommand } from './render.js';
import { readNetns, type NetnsView } from './state.js';
import { underNetnsLock, type LockOption } from './lock.js';
import { checkAbort, progressOf, type ProgressOptions } from './progress.js';
import { isIngress, redirectTarget } from './tc-json.js';

export type DetachTarget = string | Attachment;

export interface DetachReport {
  readonly netns: string;
  /** What detach removed; empty when there was nothing (already detached, never attached, model none). */
  readonly detached: readonly Attachment[];
  /** Of those, the devices an attach created but died before recording (half-made.ts). */
  readonly halfMade: readonly string[];
  readonly commands: readonly string[];
}

export interface CheckReport {
  readonly attachment: Attachment;
  readonly findings: readonly Finding[];
}

/** A link name, a tap name, or an Attachment: the attachments it denotes. */
const select = (view: NetnsView, target: DetachTarget | undefined): readonly Found[] => {
  const all = findAttachments(view);
  if (target === undefined) return all;
  if (typeof target !== 'string') return target.model === 'none' ? [] : all.filter((f) => f.device.name === target.tapName);
  return all.filter((f) => f.device.name === target || f.link?.name === target);
};

/** The same for devices an attach created but never recorded. */
const selectHalfMade = (view: NetnsView, target: DetachTarget | undefined): readonly HalfMade[] => {
  const all = halfMadeDevices(view);
  if (target === undefined) return all;
  if (typeof target !== 'string') return target.model === 'none' ? [] : all.filter((h) => h.device.name === target.tapName);
  return all.filter((h) => h.device.name === target || h.link.name === target);
};

/**
 * A tcfilter attachment whose tap someone deleted leaves the link's ingress qdisc
 * with filters redirecting to nowhere ('*'); the record went with the tap. It is
 * ours to remove when every redirect there targets the tap or nowhere.
 */
const orphanedIngress = (view: NetnsView, target: DetachTarget): Action[] => {
  const linkName = typeof target === 'string' ? target : target.model === 'tcfilter' ? target.link : undefined;
  const link = view.links.find((l) => l.name === linkName);
  if (link === undefined) return [];
  const tap = typeof target === 'string' ? defaultTapName(link.ifindex) : target.tapName;
  if (view.links.some((l) => l.name === tap)) return [];
  const targets = (view.filters[link.name] ?? []).map(redirectTarget).filter((x): x is string => x !== undefined);
  const ours = targets.length > 0 && targets.every((x) => x === '*' || x === tap);
  return ours && view.qdiscs.some((q) => q.dev === link.name && isIngress(q)) ? [{ _tag: 'IngressDel', dev: link.name }] : [];
};

const detachFound = async (
  ns: NetnsHandle,
  view: NetnsView,
  found: readonly Found[],
  halfMade: readonly HalfMade[],
  target: string,
  extraTc: readonly Action[],
  executor: Executor,
): Promise<E.Either<NetmodelError, DetachReport>> => {
  const cmds = found.map((f) => detachCommands(view, f));
  const tc = [...cmds.flatMap((c) => c.tc), ...extraTc];
  // A half-made device is only the creating line's work: deleting it undoes it all.
  const ip = deleteTogether(view, [...cmds.flatMap((c) => c.ip), ...halfMade.map((h): Action => ({ _tag: 'LinkDel', dev: h.device.name }))]);
  const commands = [...tc.map((a) => renderCommand('tc', argvOf(a))), ...ip.map((a) => renderCommand('ip', argvOf(a)))];
  if (executor === 'netlink') {
    // Like -force: every action runs (pipelined, in order); the first failure is reported.
    const r = inNetnsSync(ns, () => withNetlink((sock) => runActions(sock, [...tc, ...ip])));
    const failed = E.isLeft(r) ? r.left : r.right.flatMap((o) => (o.ok ? [] : [o.cause]))[0];
    if (failed !== undefined) return E.left({ _tag: 'DetachFailed', netns: ns.spec, target, cause: failed });
  } else {
    // -force: one stale line (a device someone removed meanwhile) must not keep the rest.
    for (const [tool, lines] of [['tc', tc], ['ip', ip]] as const) {
      const r = await runBatch(ns, tool, lines.map(argvOf), { force: true })();
      if (E.isLeft(r)) return E.left({ _tag: 'DetachFailed', netns: ns.spec, target, cause: r.left });
    }
  }
  return E.right({ netns: ns.spec, detached: [...found.map(attachmentOf), ...halfMade.map(attachmentOfHalfMade)], halfMade: halfMade.map((h) => h.device.name), commands });
};

const deletedDevice = (a: Action): string | undefined => (a._tag === 'LinkDel' ? a.dev : undefined);

/**
 * Several devices to delete: restore everything first, then move the devices
 * into DETACH_GROUP and delete the group in one request (one unregister for
 * all; deleting one by one costs the kernel ~25-40 ms a device). Only when the
 * group holds nothing else: `link del group` deletes every member.
 */
const deleteTogether = (view: NetnsView, ip: readonly Action[]): Action[] => {
  const doomed = ip.flatMap((a) => deletedDevice(a) ?? []);
  if (doomed.length < 2 || !view.inDetachGroup.every((n) => doomed.includes(n))) return [...ip];
  return [
    ...ip.filter((a) => deletedDevice(a) === undefined),
    ...doomed.map((dev): Action => ({ _tag: 'LinkSet', dev, set: { group: DETACH_GROUP } })),
    { _tag: 'LinkDelGroup', group: DETACH_GROUP },
  ];
};

const targetName = (t: DetachTarget | undefined): string => (t === undefined ? '--all' : typeof t === 'string' ? t : t.tapName);

export interface DetachOptions extends ProgressOptions {
  /** Who reads and changes the netns (executor.ts). */
  readonly executor?: Executor;
  /** The netns lock (lock.ts); false when the caller already serialises. */
  readonly lock?: LockOption;
}

/**
 * Progress and abort around one detach: lock, read, apply (the removal, never
 * cut short), done. An abort is honoured before the netns is changed.
 */
const reported = (
  ns: NetnsHandle,
  what: string,
  opts: DetachOptions,
  body: (report: ReturnType<typeof progressOf>) => Promise<E.Either<NetmodelError, DetachReport>>,
): TE.TaskEither<NetmodelError, DetachReport> => {
  const report = progressOf(opts, 'detach', ns.spec);
  const locked = underNetnsLock(ns, what, opts.lock, async () => {
    const go = checkAbort(opts.signal, what);
    if (E.isLeft(go)) return go;
    report('read');
    const r = await body(report);
    if (E.isRight(r)) report('done', r.right.detached.map((a) => a.tapName).join(' ') || 'nothing to detach');
    return r;
  });
  return async () => {
    const go = checkAbort(opts.signal, what);
    if (E.isLeft(go)) return go;
    report('lock', what);
    return locked();
  };
};

/** Removes the attachment(s) of a link or tap; succeeds with nothing to do. 2 spawns to read, 1 per tool to change; under the netns lock. */
export const detach = (ns: NetnsHandle, target: DetachTarget, opts: DetachOptions = {}): TE.TaskEither<NetmodelError, DetachReport> =>
  reported(ns, `detach ${targetName(target)}`, opts, async (report) => {
    const executor = opts.executor ?? DEFAULT_EXECUTOR;
    const view = await readNetns(ns, executor)();
    if (E.isLeft(view)) return view;
    report('apply');
    const found = select(view.right, target);
    const halfMade = selectHalfMade(view.right, target);
    return detachFound(ns, view.right, found, halfMade, targetName(target), found.length === 0 && halfMade.length === 0 ? orphanedIngress(view.right, target) : [], executor);
  });

/** Every tapwire attachment in the netns, in one process per tool; under the netns lock. */
export const detachAll = (ns: NetnsHandle, opts: DetachOptions = {}): TE.TaskEither<NetmodelError, DetachReport> =>
  reported(ns, 'detach --all', opts, async (report) => {
    const executor = opts.executor ?? DEFAULT_EXECUTOR;
    // Every attachment goes: no decision looks at a filter.
    const view = await readNetns(ns, executor, { filters: false })();
    if (E.isLeft(view)) return view;
    report('apply');
    return detachFound(ns, view.right, select(view.right, undefined), selectHalfMade(view.right, undefined), '--all', [], executor);
  });

const checkIn = (ns: NetnsHandle, view: NetnsView, target: DetachTarget | undefined): E.Either<NetmodelError, CheckReport[]> => {
  const found = select(view, target);
  const halfMade = selectHalfMade(view, target);
  const reports = [
    ...found.map((f) => ({ attachment: attachmentOf(f), findings: findingsOf(view, f) })),
    ...halfMade.map((h) => ({ attachment: attachmentOfHalfMade(h), findings: [halfMadeFinding(h)] })),
  ];
  if (target === undefined || reports.length > 0) return E.right(reports);
  // Nothing recorded: the expected device is missing (or the target does not exist at all).
  if (typeof target !== 'string') {
    if (target.model === 'none') return E.right([{ attachment: target, findings: [] }]);
    return E.right([{ attachment: target, findings: [{ _tag: 'DeviceMissing', device: target.tapName, message: `${target.tapName} is gone` }] }]);
  }
  const link = view.links.find((l) => l.name === target);
  if (link === undefined) return E.left({ _tag: 'LinkNotFound', netns: ns.spec, link: target });
  const tap = defaultTapName(link.ifindex);
  return E.right([
    {
      attachment: { link: target, model: 'tcfilter', tapName: tap, queues: 1, multiQueue: false, guestMac: link.mac ?? '-', mtu: link.mtu, device: 'tap' },
      findings: [{ _tag: 'DeviceMissing', device: tap, message: `${target} has no tapwire attachment (no ${tap} with a tapwire record)` }],
    },
  ]);
};

/** Drift of the attachment(s) of a link, a tap or an Attachment; all of them without a target. */
export const check =
  (ns: NetnsHandle, target?: DetachTarget): TE.TaskEither<NetmodelError, readonly CheckReport[]> =>
  async () => {
    const view = await readNetns(ns)();
    if (E.isLeft(view)) return view;
    return checkIn(ns, view.right, target);
  };
