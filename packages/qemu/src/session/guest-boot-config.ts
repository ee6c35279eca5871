// How the guest gets the pod's network config at boot. The kernel command
// line holds 2047 bytes; a pod with many links (48 veths: ~3 KB) does not
// fit. Then the guest boots with tapwire.control=1 and nothing else of the
// network on its line, and the same config goes as one batch over the
// control channel (guest/control.ts) once the guest listens on it: the guest
// applies it exactly as it would the command line (NET-UP, routing, pings).
// Pods that fit keep booting as before, with no control port at all.
import * as E from 'fp-ts/lib/Either.js';
import type { Attachment } from '@tapwire/netmodel';
import { podAsAttached } from '@tapwire/netmodel';
import type { NicSpec } from '@tapwire/vm';
import { renderControlBatch, renderGuestCmdline, type GuestBatch, type GuestConfig } from '../guest/index.js';
import { fromGuestCmdline, type QemuError } from '../errors.js';
import { guestConfigFor, routesNotReplayed } from './guest-config.js';
import type { Scanned } from './steps.js';

/** The tag of the boot's one batch: TAPWIRE-APPLIED boot ends the proof. */
export const BOOT_BATCH_TAG = 'boot';

export interface GuestBootConfig {
  /** The kernel command line. */
  readonly append: string;
  /** Present when the config rides the control channel instead (the VM then needs a control socket). */
  readonly control?: { readonly batch: GuestBatch; readonly lines: readonly string[]; readonly tag: string };
  readonly notes: readonly string[];
}

/** Pure: the command line when the config fits on it, else a bare one plus the control batch. */
export const deliverGuestConfig = (config: GuestConfig): E.Either<QemuError, Omit<GuestBootConfig, 'notes'>> => {
  const line = renderGuestCmdline(config);
  if (E.isRight(line)) return E.right({ append: line.right });
  if (line.left._tag !== 'GuestCmdlineTooLong') return E.left(fromGuestCmdline(line.left));
  const { nics, routes, ping, exactRouting, ...rest } = config;
  const batch: GuestBatch = { nics, ...(routes === undefined ? {} : { routes }), ...(ping === undefined ? {} : { ping }), ...(exactRouting === undefined ? {} : { exactRouting }) };
  const lines = renderControlBatch(batch, BOOT_BATCH_TAG);
  if (E.isLeft(lines)) {
    // The tag is ours and valid: only the config itself can be refused here.
    return E.left(lines.left._tag === 'GuestConfig' ? fromGuestCmdline(lines.left.error) : fromGuestCmdline(line.left));
  }
  const bare = renderGuestCmdline({ ...rest, nics: [], control: true });
  if (E.isLeft(bare)) return E.left(fromGuestCmdline(bare.left));
  return E.right({ append: bare.right, control: { batch, lines: lines.right, tag: BOOT_BATCH_TAG } });
};

/**
 * Pure: the guest config for a launch's NICs and the notes on what it cannot
 * reproduce (guestStep and guestBootStep both start here). The addressing of
 * links attached before this launch comes back from their records.
 */
export const podGuestConfig = (
  scanned: Scanned,
  nics: readonly NicSpec[],
  ping: readonly string[],
  attachments: readonly Attachment[],
): { readonly config: GuestConfig; readonly notes: string[] } => {
  const pod = podAsAttached(scanned.snapshot, attachments);
  const podNics = nics.flatMap((n) => {
    const scannedLink = scanned.endpoints.find((e) => e.link.name === n.link)?.link;
    const link = scannedLink === undefined ? undefined : (pod.links.find((l) => l.name === scannedLink.name) ?? scannedLink);
    return link === undefined ? [] : [{ link, mac: n.mac, mtu: n.mtu }];
  });
  const notes: string[] = [];
  const notReplayed = routesNotReplayed(pod, podNics);
  if (notReplayed.length > 0) notes.push(`the guest does not get these routes of the pod: ${notReplayed.join('; ')}`);
  return { config: guestConfigFor(pod, podNics, ping), notes };
};

/** The guest's network config for a launch (as guestStep), on the command line or over the control channel. */
export const guestBootStep = (
  scanned: Scanned,
  nics: readonly NicSpec[],
  ping: readonly string[],
  /** The launch's attachments: those made before it give their links' recorded addressing back. */
  attachments: readonly Attachment[] = [],
): E.Either<QemuError, GuestBootConfig> => {
  const { config, notes } = podGuestConfig(scanned, nics, ping, attachments);
  return E.map((d: Omit<GuestBootConfig, 'notes'>): GuestBootConfig => {
    if (d.control !== undefined) notes.push(`the guest's network config (${nics.length} NICs) is too long for the kernel command line: it goes over the control channel`);
    return { ...d, notes };
  })(deliverGuestConfig(config));
};
