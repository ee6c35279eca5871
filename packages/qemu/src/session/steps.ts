// The named steps of a launch before the VM: scan the pod netns, attach its
// endpoints (or plan them, for a dry run), and make the guest's command line.
// Each returns an Either/TaskEither of the package's one error union.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { classify, scanUntilAttachable, type Endpoint, type Snapshot } from '@tapwire/endpoints';
import { attachAll, modelFor, plan, wantsModel, type Attachment, type Model, type NetmodelProgress } from '@tapwire/netmodel';
import type { NetnsHandle } from '@tapwire/sys';
import type { NicSpec } from '@tapwire/vm';
import { renderGuestCmdline } from '../guest/index.js';
import { fromEndpoints, fromGuestCmdline, fromNetmodel, type QemuError } from '../errors.js';
import { guestConfigFor, routesNotReplayed } from './guest-config.js';

export interface Scanned {
  readonly snapshot: Snapshot;
  readonly endpoints: readonly Endpoint[];
}

export const scanStep =
  (ns: NetnsHandle, o: { readonly waitMs?: number; readonly vhostUserDir?: string; readonly asTap?: readonly string[] }): TE.TaskEither<QemuError, Scanned> =>
  async () => {
    const asTap = o.asTap ?? [];
    const scanned = await scanUntilAttachable(ns, o.waitMs ?? 0, { ...(o.vhostUserDir === undefined ? {} : { vhostUserDir: o.vhostUserDir }), asTap })();
    if (E.isLeft(scanned)) return E.left(fromEndpoints(scanned.left));
    const { snapshot } = scanned.right;
    const endpoints = classify(snapshot, { asTap });
    if (!endpoints.some((e) => e.skipped === undefined)) {
      return E.left({ _tag: 'NothingToAttach', netns: ns.spec, seen: endpoints.map((e) => `${e.link.name}: ${e.skipped ?? ''}`) });
    }
    return E.right({ snapshot, endpoints });
  };

/** Plans stand in for attachments in a dry run: same names, queues and MACs, nothing made. */
export const plannedAttachments = (endpoints: readonly Endpoint[], model: Model, queues: number): E.Either<QemuError, Attachment[]> => {
  const out: Attachment[] = [];
  for (const e of endpoints.filter(wantsModel)) {
    const p = plan(e, modelFor(model)(e), { queues });
    if (E.isLeft(p)) return E.left(fromNetmodel(p.left));
    const { link, model: m, tapName, queues: q, multiQueue, guestMac, mtu, device } = p.right;
    out.push({ link, model: m, tapName, queues: q, multiQueue, guestMac, mtu, device });
  }
  return E.right(out);
};

export interface AttachStepOptions {
  readonly model: Model;
  readonly queues: number;
  readonly dryRun: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (e: NetmodelProgress) => void;
}

export const attachStep =
  (ns: NetnsHandle, endpoints: readonly Endpoint[], o: AttachStepOptions): TE.TaskEither<QemuError, readonly Attachment[]> =>
  async () => {
    if (o.dryRun) return plannedAttachments(endpoints, o.model, o.queues);
    const attached = await attachAll(ns, endpoints, o.model, {
      queues: o.queues,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
    })();
    return E.mapLeft(fromNetmodel)(attached);
  };

/** The guest's kernel command line (its network config and ping targets), and what it cannot reproduce. */
export const guestStep = (
  scanned: Scanned,
  nics: readonly NicSpec[],
  ping: readonly string[],
  /** stay: the guest keeps running after TAPWIRE-DONE (a VM driven through its handle). */
  o: { readonly stay?: boolean } = {},
): E.Either<QemuError, { append: string; notes: string[] }> => {
  const podNics = nics.flatMap((n) => {
    const link = scanned.endpoints.find((e) => e.link.name === n.link)?.link;
    return link === undefined ? [] : [{ link, mac: n.mac, mtu: n.mtu }];
  });
  const notes: string[] = [];
  const notReplayed = routesNotReplayed(scanned.snapshot, podNics);
  if (notReplayed.length > 0) notes.push(`the guest does not get these routes of the pod: ${notReplayed.join('; ')}`);
  return E.bimap(fromGuestCmdline, (append: string) => ({ append, notes }))(renderGuestCmdline({ ...guestConfigFor(scanned.snapshot, podNics, ping), ...(o.stay === true ? { stay: true } : {}) }));
};
