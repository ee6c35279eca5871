// The named steps of a launch before the VM: scan the pod netns, attach its
// endpoints (or plan them, for a dry run), and make the guest's command line.
// Each returns an Either/TaskEither of the package's one error union.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { scanUntilAttachable, type Endpoint, type Snapshot } from '@tapwire/endpoints';
import { attachAll, attachedIfindexes, plannedAttachments as plannedInNetns, type Attachment, type Model, type NetmodelProgress } from '@tapwire/netmodel';
import type { NetnsHandle } from '@tapwire/sys';
import type { NicSpec } from '@tapwire/vm';
import { renderGuestCmdline } from '../guest/index.js';
import { fromEndpoints, fromGuestCmdline, fromNetmodel, type QemuError } from '../errors.js';
import { podGuestConfig } from './guest-boot-config.js';

export interface Scanned {
  readonly snapshot: Snapshot;
  readonly endpoints: readonly Endpoint[];
}

/** Usable now: an attachable endpoint, or a link attached before this launch. */
const usableNow = (snapshot: Snapshot, endpoints: readonly Endpoint[]): boolean => {
  // A link attached with model macvtap has its addresses on the macvtap's
  // record, so it scans as "no addresses": it still gets its NIC.
  const attached = attachedIfindexes(snapshot.links);
  return endpoints.some((e) => e.skipped === undefined || (e.kind !== 'loopback' && attached.has(e.link.ifindex)));
};

/**
 * Scans until a link is usable (within waitMs: some runtimes fill the netns
 * after the VM is asked for), polling from 50 ms to 1 s; an abort ends the wait.
 */
export const scanStep =
  (ns: NetnsHandle, o: { readonly waitMs?: number; readonly vhostUserDir?: string; readonly asTap?: readonly string[]; readonly signal?: AbortSignal }): TE.TaskEither<QemuError, Scanned> =>
  async () => {
    const asTap = o.asTap ?? [];
    const scanned = await scanUntilAttachable(ns, o.waitMs ?? 0, {
      ...(o.vhostUserDir === undefined ? {} : { vhostUserDir: o.vhostUserDir }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      asTap,
      usable: usableNow,
    })();
    // An abort arrives wrapped as the others (Endpoints: Aborted); launchPod reports any failure under an abort as an interrupt.
    if (E.isLeft(scanned)) return E.left(fromEndpoints(scanned.left));
    const { snapshot, endpoints } = scanned.right;
    if (!usableNow(snapshot, endpoints)) return E.left({ _tag: 'NothingToAttach', netns: ns.spec, seen: endpoints.map((e) => `${e.link.name}: ${e.skipped ?? ''}`) });
    return E.right({ snapshot, endpoints });
  };

/**
 * Plans stand in for attachments in a dry run: same names, queues and MACs,
 * nothing made; a link attached already is reported as it is (netmodel reads
 * the netns once to tell).
 */
export const plannedAttachments =
  (ns: NetnsHandle, endpoints: readonly Endpoint[], model: Model, queues: number, o: { readonly keepAttached?: boolean } = {}): TE.TaskEither<QemuError, Attachment[]> =>
  async () =>
    E.bimap(fromNetmodel, (r: { attachments: Attachment[] }) => r.attachments)(await plannedInNetns(ns, endpoints, model, queues, o)());

export type AttachedAs = ReadonlyMap<number, { readonly model: Model; readonly queues: number }>;

/** Endpoints by the model and queues they get: links in `kept` as recorded, the rest as asked (last). */
const groupsFor = (endpoints: readonly Endpoint[], kept: AttachedAs, model: Model, queues: number) => {
  const groups = new Map<string, { model: Model; queues: number; endpoints: Endpoint[] }>();
  const asked = { model, queues, endpoints: [] as Endpoint[] };
  for (const e of endpoints) {
    const as = kept.get(e.link.ifindex);
    if (as === undefined) {
      asked.endpoints.push(e);
      continue;
    }
    const key = `${as.model}/${as.queues}`;
    const g = groups.get(key) ?? { model: as.model, queues: as.queues, endpoints: [] };
    g.endpoints.push(e);
    groups.set(key, g);
  }
  // Groups of attached links make nothing; the one that may make something goes last.
  return [...groups.values(), asked];
};

export interface AttachStepOptions {
  readonly model: Model;
  readonly queues: number;
  readonly dryRun: boolean;
  /**
   * Links attached already (by link ifindex, netmodel's attachedAs of the
   * scan) are used as recorded; `model`/`queues` apply to the rest. Absent:
   * an attachment unlike the one asked for is AlreadyAttached.
   */
  readonly keepAttached?: AttachedAs;
  readonly signal?: AbortSignal;
  readonly onProgress?: (e: NetmodelProgress) => void;
}

export const attachStep =
  (ns: NetnsHandle, endpoints: readonly Endpoint[], o: AttachStepOptions): TE.TaskEither<QemuError, readonly Attachment[]> =>
  async () => {
    if (o.dryRun) return plannedAttachments(ns, endpoints, o.model, o.queues, o.keepAttached === undefined ? {} : { keepAttached: true })();
    const kept: AttachedAs = o.keepAttached ?? new Map();
    const out: Attachment[] = [];
    for (const g of groupsFor(endpoints, kept, o.model, o.queues)) {
      if (g.endpoints.length === 0) continue;
      const attached = await attachAll(ns, g.endpoints, g.model, {
        queues: g.queues,
        ...(o.signal === undefined ? {} : { signal: o.signal }),
        ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
      })();
      if (E.isLeft(attached)) {
        // Only the last group can have made anything, and attachAll undid it: earlier ones were all attached already.
        return E.left(fromNetmodel(attached.left));
      }
      out.push(...attached.right);
    }
    return E.right(out);
  };

/** The guest's kernel command line (its network config and ping targets), and what it cannot reproduce. */
export const guestStep = (
  scanned: Scanned,
  nics: readonly NicSpec[],
  ping: readonly string[],
  /** stay: the guest keeps running after TAPWIRE-DONE (a VM driven through its handle). */
  o: { readonly stay?: boolean } = {},
  /** The launch's attachments: those made before it give their links' recorded addressing back. */
  attachments: readonly Attachment[] = [],
): E.Either<QemuError, { append: string; notes: string[] }> => {
  const { config, notes } = podGuestConfig(scanned, nics, ping, attachments);
  return E.bimap(fromGuestCmdline, (append: string) => ({ append, notes }))(renderGuestCmdline({ ...config, ...(o.stay === true ? { stay: true } : {}) }));
};
