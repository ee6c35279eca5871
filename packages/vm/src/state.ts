// State a runtime can persist (issue 10, item 4), like Kata's save/load: the
// attachments it made and the NICs its VM has, as a versioned JSON document.
// After a restart the runtime decodes it (decodeNicState) and checks it
// (checkNicState) against the netns and the VM before trusting it: a tap
// someone deleted, a device with a new ifindex, or a NIC the VM no longer has
// at its PCI address comes back as drift, by name.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { decodeLinks } from '@tapwire/endpoints';
import { check, MODELS, type Attachment, type Finding } from '@tapwire/netmodel';
import { runBatchJson, type NetnsHandle } from '@tapwire/sys';
import { netmodelError, sysError, type VmError } from './errors.js';
import { NicSpecC, type NicSpec } from './nic.js';

/** netmodel's Attachment as a codec: the same fields, checked field by field. */
export const AttachmentC = t.readonly(
  t.intersection([
    t.type({
      link: t.string,
      model: t.keyof(Object.fromEntries(MODELS.map((m) => [m, null])) as Record<(typeof MODELS)[number], null>),
      tapName: t.string,
      queues: t.number,
      multiQueue: t.boolean,
      guestMac: t.string,
      mtu: t.number,
      device: t.keyof({ tap: null, macvtap: null }),
    }),
    t.partial({ existing: t.boolean }),
  ]),
  'Attachment',
);

// A compile-time check that the codec and netmodel's type stay the same shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameAttachment: Same<t.TypeOf<typeof AttachmentC>, Attachment> = true;
void sameAttachment;

export const NIC_STATE_VERSION = 1;

/** Where the VM runs, when the runtime wants to find it again. */
export const VmRefC = t.readonly(
  t.intersection([t.type({ pid: t.number }), t.partial({ qmpSocket: t.string, vmm: t.string })]),
  'VmRef',
);

export const NicStateC = t.readonly(
  t.intersection([
    t.type({
      version: t.literal(NIC_STATE_VERSION),
      /** The netns spec the attachments live in (a name or a path). */
      netns: t.string,
      attachments: t.readonlyArray(AttachmentC),
      nics: t.readonlyArray(NicSpecC),
    }),
    t.partial({ vm: VmRefC }),
  ]),
  'NicState',
);

export type AttachmentState = t.TypeOf<typeof AttachmentC>;
export type VmRef = t.TypeOf<typeof VmRefC>;
export type NicState = t.TypeOf<typeof NicStateC>;

export const encodeNicState = (s: NicState): string => `${JSON.stringify(NicStateC.encode(s), null, 2)}\n`;

/** Decodes saved state; `source` names it in the error (a file path, "stdin"). */
export const decodeNicState = (text: string, source: string): E.Either<VmError, NicState> => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return E.left({ _tag: 'BadState', source, problems: [`not JSON (${(e as Error).message})`] });
  }
  return pipe(
    NicStateC.decode(raw),
    E.mapLeft((errs): VmError => ({ _tag: 'BadState', source, problems: PathReporter.report(E.left(errs)) })),
  );
};

/** A PCI function a VMM reports (QEMU: query-pci), hypervisor-neutral. */
export interface PciFunctionSeen {
  /** "0000:00:03.0" */
  readonly address: string;
  /** The VMM's device id (QEMU qdev_id): a NicSpec's id. */
  readonly deviceId: string;
  readonly vendor: number;
  readonly device: number;
}

export type Drift =
  | { readonly _tag: 'AttachmentDrift'; readonly link: string; readonly findings: readonly Finding[] }
  | { readonly _tag: 'DeviceGone'; readonly nic: string; readonly device: string }
  | { readonly _tag: 'IfindexChanged'; readonly nic: string; readonly device: string; readonly expected: number; readonly found: number }
  | { readonly _tag: 'NicNotInVm'; readonly nic: string; readonly pciAddress: string | undefined }
  | { readonly _tag: 'PciAddressChanged'; readonly nic: string; readonly expected: string; readonly found: string };

export const describeDrift = (d: Drift): string => {
  switch (d._tag) {
    case 'AttachmentDrift':
      return `attachment of ${d.link}: ${d.findings.map((f) => f.message).join('; ')}`;
    case 'DeviceGone':
      return `${d.nic}: device ${d.device} is gone from the netns`;
    case 'IfindexChanged':
      return `${d.nic}: device ${d.device} has ifindex ${d.found}, saved ${d.expected} (deleted and made again: not the device the VM holds)`;
    case 'NicNotInVm':
      return `${d.nic}: the VM has no such device${d.pciAddress === undefined ? '' : ` (saved at ${d.pciAddress})`}`;
    case 'PciAddressChanged':
      return `${d.nic}: the VM has it at ${d.found}, saved ${d.expected}`;
  }
};

export interface NicStateCheck {
  readonly ok: boolean;
  readonly drift: readonly Drift[];
}

export interface Observed {
  /** ifindex by device name in the netns. */
  readonly devices: ReadonlyMap<string, number>;
  /** netmodel's findings by attachment tap name (empty: as attached). */
  readonly findings: ReadonlyMap<string, readonly Finding[]>;
  /** The VM's PCI functions; undefined: the VM is not checked. */
  readonly pci: readonly PciFunctionSeen[] | undefined;
}

/** Pure: what differs between saved state and what was observed. */
export const nicStateDrift = (s: NicState, o: Observed): Drift[] => {
  const drift: Drift[] = [];
  for (const a of s.attachments) {
    const f = o.findings.get(a.tapName);
    if (a.model !== 'none' && f === undefined) drift.push({ _tag: 'AttachmentDrift', link: a.link, findings: [{ _tag: 'DeviceMissing', device: a.tapName, message: `no attachment ${a.tapName} of ${a.link} in the netns` }] });
    else if (f !== undefined && f.length > 0) drift.push({ _tag: 'AttachmentDrift', link: a.link, findings: f });
  }
  for (const n of s.nics) {
    const b = n.backend;
    if (b.kind === 'tap' || b.kind === 'macvtap') {
      const found = o.devices.get(b.device);
      if (found === undefined) drift.push({ _tag: 'DeviceGone', nic: n.id, device: b.device });
      else if (b.ifindex !== 0 && found !== b.ifindex) drift.push({ _tag: 'IfindexChanged', nic: n.id, device: b.device, expected: b.ifindex, found });
    }
    if (o.pci !== undefined) {
      const seen = o.pci.find((p) => p.deviceId === n.id);
      if (seen === undefined) drift.push({ _tag: 'NicNotInVm', nic: n.id, pciAddress: n.pciAddress });
      else if (n.pciAddress !== undefined && seen.address !== n.pciAddress) drift.push({ _tag: 'PciAddressChanged', nic: n.id, expected: n.pciAddress, found: seen.address });
    }
  }
  return drift;
};

export interface CheckStateOptions<PE> {
  /** The VM's PCI functions now (QEMU: queryPciFunctions over QMP); left out: the VM is not checked. */
  readonly pci?: TE.TaskEither<PE, readonly PciFunctionSeen[]>;
}

/**
 * Reads the netns (ip: 1 spawn; netmodel check: 2) and, when given, the VM's
 * PCI functions, and reports drift. A VMM error comes back as it is (PE).
 */
export const checkNicState =
  <PE = never>(ns: NetnsHandle, s: NicState, o: CheckStateOptions<PE> = {}): TE.TaskEither<VmError | PE, NicStateCheck> =>
  async () => {
    const docs = await runBatchJson(ns, [['addr', 'show']])();
    if (E.isLeft(docs)) return E.left(sysError(docs.left));
    const links = decodeLinks(docs.right[0]);
    if (E.isLeft(links)) return E.left({ _tag: 'Endpoints', error: links.left });
    const reports = s.attachments.some((a) => a.model !== 'none') ? await check(ns)() : E.right([]);
    if (E.isLeft(reports)) return E.left(netmodelError(reports.left));
    const pci = o.pci === undefined ? E.right(undefined) : await o.pci();
    if (E.isLeft(pci)) return pci;
    const drift = nicStateDrift(s, {
      devices: new Map(links.right.map((l) => [l.name, l.ifindex])),
      findings: new Map(reports.right.map((r) => [r.attachment.tapName, r.findings])),
      pci: pci.right,
    });
    return E.right({ ok: drift.length === 0, drift });
  };
