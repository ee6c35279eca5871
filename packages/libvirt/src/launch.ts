// The KubeVirt-style loop: scan the pod netns, attach, start a private
// libvirtd inside the pod netns, define and start a transient domain from the
// NicSpecs and the guest image, read the guest's report off its serial
// console, then destroy the domain, stop the daemon, take libvirt's noqueue
// qdiscs off again and detach - whatever fails on the way.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { scanUntilAttachable, type Link } from '@tapwire/endpoints';
import { attachedAs, detach, podAsAttached, type Attachment, type Model } from '@tapwire/netmodel';
import { attachStep, guestConfigFor, guestImagePaths, guestRoutingError, parseConsole, renderGuestCmdline, summarizeGuest, type GuestImage, type GuestReport } from '@tapwire/qemu';
import type { NetnsHandle } from '@tapwire/sys';
import { describeNics, renderLibvirtDomain, type GuestMachine, type NicSpec } from '@tapwire/vm';
import { watchConsole } from './console.js';
import { startPrivateDaemon, type PrivateDaemon } from './daemon.js';
import type { LibvirtError } from './errors.js';
import { readRootQdiscs, restoreRootQdiscs, type RootQdiscs } from './qdisc.js';
import { virsh } from './virsh.js';

export interface LibvirtLaunchOptions {
  readonly model: Model;
  readonly queues: number;
  /** Links attached already (`tapwire attach`) are used with their recorded model and queues; model/queues apply to the rest. */
  readonly keepAttached?: boolean;
  readonly ping: readonly string[];
  readonly timeoutMs: number;
  /** libvirt domain type: 'qemu' (TCG) unless kvm. */
  readonly accel?: 'kvm' | 'tcg';
  readonly dryRun: boolean;
  readonly memMiB?: number;
  readonly image?: GuestImage;
  readonly vhostUserDir?: string;
  readonly asTap?: readonly string[];
  readonly waitMs?: number;
  readonly capsCacheDir?: string;
  readonly onConsole?: (chunk: string) => void;
  /** Aborting tears down as on failure; SIGINT and SIGTERM do the same while a launch runs. */
  readonly signal?: AbortSignal;
}

/** ms per phase, for the benchmark and the curious. */
export interface LibvirtTimings {
  readonly scanMs: number;
  readonly attachMs: number;
  readonly daemonMs?: number;
  /** virsh create: the first one on a fresh capability cache includes libvirt's QEMU probe. */
  readonly createMs?: number;
  /** From virsh create returning to the guest's TAPWIRE-NET-UP. */
  readonly netUpMs?: number;
  readonly doneMs?: number;
  readonly teardownMs?: number;
}

export interface LibvirtLaunchResult {
  readonly attachments: readonly Attachment[];
  readonly nics: readonly NicSpec[];
  /** The domain XML as defined (a dry run: with the host's kernel paths). */
  readonly xml: string;
  readonly guest: GuestReport | undefined;
  readonly notes: readonly string[];
  readonly timings: LibvirtTimings;
  readonly ok: boolean;
}

/** Where the daemon's mount ns shows the guest image and the console. */
const INSIDE = { kernel: '/run/tapwire/kernel', initrd: '/run/tapwire/initrd', console: '/run/tapwire/console.log' } as const;

const consoleTail = (text: string, lines = 15): string => text.split('\n').slice(-lines).join('\n').trim();

const machineFor = (nics: readonly NicSpec[], o: LibvirtLaunchOptions, cmdline: string, files: { kernel: string; initrd: string | undefined; console: string }): GuestMachine => ({
  name: `tapwire-${randomBytes(4).toString('hex')}`,
  // virtio-net enables min(queue pairs, vCPUs): one vCPU per queue of the widest NIC.
  vcpus: Math.max(1, ...nics.map((n) => n.queues)),
  memMiB: o.memMiB ?? 256,
  accel: o.accel ?? 'tcg',
  kernel: files.kernel,
  initrd: files.initrd,
  cmdline,
  serialLog: files.console,
});

export const launchViaLibvirt =
  (ns: NetnsHandle, o: LibvirtLaunchOptions): TE.TaskEither<LibvirtError, LibvirtLaunchResult> =>
  async () => {
    const notes: string[] = [];
    const made: Attachment[] = [];
    let daemon: PrivateDaemon | undefined;
    let qdiscsBefore: RootQdiscs | undefined;
    let nicDevices: string[] = [];
    const t0 = Date.now();
    const timings: { -readonly [K in keyof LibvirtTimings]: LibvirtTimings[K] } = { scanMs: 0, attachMs: 0 };
    const cleanupErrors: string[] = [];
    // One signal for the caller's abort and the process's SIGINT/SIGTERM, held until teardown is done.
    const abort = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => abort.abort(sig);
    const onCallerAbort = () => abort.abort(o.signal?.reason instanceof Error ? o.signal.reason.message : 'aborted');
    if (!o.dryRun) {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    if (o.signal?.aborted === true) onCallerAbort();
    o.signal?.addEventListener('abort', onCallerAbort);
    const interrupted = (): E.Either<LibvirtError, never> => E.left({ _tag: 'Interrupted', reason: String(abort.signal.reason) });
    const result = await (async (): Promise<E.Either<LibvirtError, LibvirtLaunchResult>> => {
      const scanned = await scanUntilAttachable(ns, o.waitMs ?? 0, {
        ...(o.vhostUserDir === undefined ? {} : { vhostUserDir: o.vhostUserDir }),
        asTap: o.asTap ?? [],
        signal: abort.signal,
      })();
      if (E.isLeft(scanned)) return scanned.left._tag === 'Aborted' ? interrupted() : E.left({ _tag: 'Endpoints', error: scanned.left });
      const { snapshot, endpoints } = scanned.right;
      timings.scanMs = Date.now() - t0;

      if (abort.signal.aborted) return interrupted();
      const t1 = Date.now();
      // The direct launch's attach step: the same grouping by recorded model, the same dry run.
      const attached = await attachStep(ns, endpoints, {
        model: o.model,
        queues: o.queues,
        dryRun: o.dryRun,
        signal: abort.signal,
        ...(o.keepAttached === true ? { keepAttached: attachedAs(snapshot.links) } : {}),
      })();
      if (E.isLeft(attached)) return abort.signal.aborted ? interrupted() : E.left({ _tag: 'Qemu', error: attached.left });
      const attachments = attached.right;
      if (!o.dryRun) made.push(...attachments.filter((a) => a.existing !== true));
      timings.attachMs = Date.now() - t1;
      // describeNics gives an attached link its NIC even when it scans as skipped (no addresses).
      let nics = describeNics(endpoints, attachments, { vhostUserQueues: o.queues });
      if (nics.length === 0) return E.left({ _tag: 'NothingToAttach', netns: ns.spec, seen: endpoints.map((e) => `${e.link.name}: ${e.skipped ?? e.kind}`) });

      const pod = podAsAttached(snapshot, attachments);
      const linkOf = new Map<string, Link>(pod.links.map((l) => [l.name, l]));
      const podNics = nics.flatMap((n) => {
        const link = linkOf.get(n.link);
        return link === undefined ? [] : [{ link, mac: n.mac === '' ? (link.mac ?? '') : n.mac, mtu: n.mtu }];
      });
      const cmdline = renderGuestCmdline(guestConfigFor(pod, podNics, o.ping));
      if (E.isLeft(cmdline)) return E.left({ _tag: 'GuestCmdline', error: cmdline.left });
      const image = o.image ?? guestImagePaths();
      const kernel = image.kernelElf ?? image.kernel;

      if (o.dryRun) {
        const xml = renderLibvirtDomain(machineFor(nics, o, cmdline.right, { kernel, initrd: image.initrd, console: INSIDE.console }), nics);
        if (E.isLeft(xml)) return E.left({ _tag: 'Render', error: xml.left });
        return E.right({ attachments, nics, xml: xml.right, guest: undefined, notes, timings, ok: true });
      }

      if (abort.signal.aborted) return interrupted();
      const t2 = Date.now();
      nicDevices = nics.flatMap((n) => (n.backend.kind === 'tap' || n.backend.kind === 'macvtap' ? [n.backend.device] : []));
      const before = await readRootQdiscs(ns)();
      if (E.isLeft(before)) return before;
      qdiscsBefore = before.right;
      const started = await startPrivateDaemon(ns, {
        ...(o.capsCacheDir === undefined ? {} : { capsCacheDir: o.capsCacheDir }),
        files: [{ host: kernel, inside: INSIDE.kernel }, { host: image.initrd, inside: INSIDE.initrd }],
        macvtaps: nics.flatMap((n) => (n.backend.kind === 'macvtap' ? [n.backend.device] : [])),
      })();
      if (E.isLeft(started)) return started;
      daemon = started.right;
      timings.daemonMs = Date.now() - t2;
      // The ifindexes as the daemon (in the pod netns) sees them: the ones /dev/tap<ifindex> is made for.
      const d = daemon;
      nics = describeNics(endpoints, attachments, { vhostUserQueues: o.queues, ifindexOf: (dev) => d.ifindexOf(dev) ?? 0 });
      const machine = machineFor(nics, o, cmdline.right, { kernel: INSIDE.kernel, initrd: INSIDE.initrd, console: INSIDE.console });
      const xml = renderLibvirtDomain(machine, nics);
      if (E.isLeft(xml)) return E.left({ _tag: 'Render', error: xml.left });
      const xmlFile = `${d.workDir}/domain.xml`;
      writeFileSync(xmlFile, xml.right);

      if (abort.signal.aborted) return interrupted();
      const t3 = Date.now();
      const created = await virsh(d.uri, ['create', xmlFile])();
      if (E.isLeft(created)) return created;
      timings.createMs = Date.now() - t3;
      const watched = await watchConsole(
        d.hostPath(INSIDE.console),
        o.timeoutMs,
        async () => E.isRight(await virsh(d.uri, ['domid', machine.name])()),
        o.onConsole,
        abort.signal,
      );
      if (watched.stoppedBecause === 'aborted') return interrupted();
      if (watched.netUpMs !== undefined) timings.netUpMs = watched.netUpMs;
      if (watched.doneMs !== undefined) timings.doneMs = watched.doneMs;
      const events = parseConsole(watched.text);
      if (E.isLeft(events)) return E.left({ _tag: 'Console', error: events.left });
      const guest = summarizeGuest(events.right);
      if (!guest.done) {
        const why = watched.stoppedBecause === 'timeout' ? `no TAPWIRE-DONE within ${o.timeoutMs} ms` : 'the domain stopped before the guest finished';
        return E.left({ _tag: 'GuestFailed', detail: why, consoleTail: consoleTail(watched.text) });
      }
      const routing = guestRoutingError(guest);
      if (routing !== undefined) return E.left({ _tag: 'Routing', error: routing });
      return E.right({ attachments, nics, xml: xml.right, guest, notes, timings, ok: guest.ok });
    })();

    // Teardown, in order: domains and daemon, libvirt's qdiscs, then our attachments.
    const t4 = Date.now();
    if (daemon !== undefined) cleanupErrors.push(...(await daemon.stop()));
    if (qdiscsBefore !== undefined && daemon !== undefined) {
      const restored = await restoreRootQdiscs(ns, qdiscsBefore, nicDevices)();
      if (E.isLeft(restored)) cleanupErrors.push(`restoring root qdiscs: ${JSON.stringify(restored.left)}`);
      else if (restored.right.length > 0) notes.push(`took libvirt's noqueue root qdisc off ${restored.right.join(', ')}`);
    }
    for (const a of [...made].reverse()) {
      const r = await detach(ns, a)();
      if (E.isLeft(r)) cleanupErrors.push(`detach ${a.link}: ${r.left._tag}`);
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    o.signal?.removeEventListener('abort', onCallerAbort);
    if (E.isLeft(result)) return result;
    const withTimings = { ...result.right, timings: { ...timings, ...(daemon === undefined ? {} : { teardownMs: Date.now() - t4 }) }, notes };
    if (cleanupErrors.length > 0) return E.left({ _tag: 'Leftovers', what: cleanupErrors });
    return E.right(withTimings);
  };
