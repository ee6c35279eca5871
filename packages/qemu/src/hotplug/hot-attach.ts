// A pod link into a running VM and back out, the whole way: scan the netns,
// attach the endpoint (netmodel), open its queue fds in the netns, plug them
// into QEMU, close ours, tell the guest its addresses/routes over the control
// channel and wait for it to report the NIC up. Detach is the exact inverse:
// unplug (the guest must let go), ask the guest to confirm it gone, detach the
// endpoint. Any failure on the way in undoes what was done: the VM and the
// netns end as they were.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { describeEndpointsError, scanUntilAttachable, type Endpoint, type EndpointsError } from '@tapwire/endpoints';
import { attach, describeNetmodelError, detach, modelFor, type Attachment, type Model, type NetmodelError } from '@tapwire/netmodel';
import { closeFds, describeSysError, openMacvtapQueues, openTapQueues, openVhostNet, type NetnsHandle, type SysError } from '@tapwire/sys';
import type { Accel } from '../args/render-nic.js';
import type { GuestEvent } from '../guest/console.js';
import { describeGuestControlError, type GuestControl, type GuestControlError } from '../guest/control.js';
import type { Qmp } from '../launch/qmp.js';
import { guestConfigFor } from '../session/guest-config.js';
import { describeHotplugError, type HotplugError } from './errors.js';
import { plugNicWith, unplugNic, type HotNic, type PlugFaults, type PluggedNic } from './plug.js';
import { nicSpecOfHot } from './state.js';
import type { NicSpec } from '@tapwire/vm';

/** What hotplug needs of a running VM (a VmHandle has all three). */
export interface HotVm {
  readonly qmp: Qmp;
  readonly control: GuestControl;
  readonly accel: Accel;
}

export type HotAttachError =
  | { readonly _tag: 'Endpoints'; readonly error: EndpointsError }
  | { readonly _tag: 'NoSuchLink'; readonly netns: string; readonly link: string; readonly seen: readonly string[] }
  | { readonly _tag: 'NotHotpluggable'; readonly link: string; readonly kind: string }
  | { readonly _tag: 'Netmodel'; readonly error: NetmodelError }
  | { readonly _tag: 'Sys'; readonly error: SysError }
  | { readonly _tag: 'Hotplug'; readonly error: HotplugError }
  | { readonly _tag: 'GuestControl'; readonly error: GuestControlError }
  /** The guest did not bring the NIC up (undone), or still holds an unplugged one. */
  | { readonly _tag: 'GuestNic'; readonly mac: string; readonly state: 'missing' | 'present'; readonly detail: string }
  /** A failure whose undo failed too: something may be left behind, named here. */
  | { readonly _tag: 'UndoFailed'; readonly error: HotAttachError; readonly undo: readonly string[] };

export const describeHotAttachError = (e: HotAttachError): string => {
  switch (e._tag) {
    case 'Endpoints':
      return describeEndpointsError(e.error);
    case 'NoSuchLink':
      return `netns ${e.netns} has no attachable link ${e.link} (seen: ${e.seen.join(' ') || 'none'})`;
    case 'NotHotpluggable':
      return `link ${e.link} is a ${e.kind} endpoint: only tap, macvtap and vhost-user NICs are hotplugged`;
    case 'Netmodel':
      return describeNetmodelError(e.error);
    case 'Sys':
      return describeSysError(e.error);
    case 'Hotplug':
      return describeHotplugError(e.error);
    case 'GuestControl':
      return describeGuestControlError(e.error);
    case 'GuestNic':
      return `guest NIC ${e.mac} is ${e.state}: ${e.detail}`;
    case 'UndoFailed':
      return `${describeHotAttachError(e.error)}; undoing it failed too: ${e.undo.join('; ')}`;
  }
};

/** A link plugged into a VM; plain data (a runtime may save it and detach after a restart). */
export interface HotAttached {
  readonly netns: string;
  readonly link: string;
  readonly mac: string;
  /** undefined for vhost-user (nothing made in the netns). */
  readonly attachment: Attachment | undefined;
  readonly plugged: PluggedNic;
  /** The NIC as @tapwire/vm describes it (for the VM handle's NIC table and saved NicState). */
  readonly spec: NicSpec;
}

export interface HotAttachOptions {
  readonly nicId: string;
  readonly model: Model;
  readonly queues: number;
  readonly vhost?: boolean;
  /** Addresses the guest pings through the new NIC. */
  readonly ping?: readonly string[];
  readonly scanWaitMs?: number;
  /** How long the guest gets to report the NIC up (pings included). */
  readonly guestTimeoutMs?: number;
  readonly unplugTimeoutMs?: number;
  readonly vhostUserDir?: string;
}

/** Internal: the fault hook (plug steps, and the guest step after them). */
export interface HotAttachFaults extends PlugFaults {
  readonly failGuest?: boolean;
}

export interface HotAttachResult extends HotAttached {
  /** The guest's reports for this NIC (NET-UP, routes, pings, TAPWIRE-NIC). */
  readonly guest: readonly GuestEvent[];
}

const DEFAULT_GUEST_MS = 60_000;
const DEFAULT_SCAN_WAIT_MS = 2_000;

const openQueues = (ns: NetnsHandle, a: Attachment, vhost: boolean): E.Either<SysError, { queueFds: number[]; vhostFds: number[] }> => {
  const q = a.device === 'macvtap' ? openMacvtapQueues(ns, a.tapName, a.queues) : openTapQueues(ns, a.tapName, { queues: a.queues, multiQueue: a.multiQueue, vnetHdr: true });
  if (E.isLeft(q)) return q;
  if (!vhost) return E.right({ queueFds: q.right, vhostFds: [] });
  const v = openVhostNet(a.queues);
  if (E.isLeft(v)) {
    closeFds(q.right);
    return v;
  }
  return E.right({ queueFds: q.right, vhostFds: v.right });
};

const findEndpoint = async (ns: NetnsHandle, link: string, o: HotAttachOptions) => {
  const scanned = await scanUntilAttachable(ns, o.scanWaitMs ?? DEFAULT_SCAN_WAIT_MS, o.vhostUserDir === undefined ? {} : { vhostUserDir: o.vhostUserDir })();
  if (E.isLeft(scanned)) return E.left<HotAttachError>({ _tag: 'Endpoints', error: scanned.left });
  const e = scanned.right.endpoints.find((x) => x.link.name === link && x.skipped === undefined);
  if (e === undefined) return E.left<HotAttachError>({ _tag: 'NoSuchLink', netns: ns.spec, link, seen: scanned.right.endpoints.map((x) => x.link.name) });
  return E.right({ endpoint: e, snapshot: scanned.right.snapshot });
};

/** Internal entry with the fault hook. */
export const hotAttachWith =
  (vm: HotVm, ns: NetnsHandle, link: string, o: HotAttachOptions, faults: HotAttachFaults = {}): TE.TaskEither<HotAttachError, HotAttachResult> =>
  async () => {
    const found = await findEndpoint(ns, link, o);
    if (E.isLeft(found)) return found;
    const { endpoint, snapshot } = found.right;
    if (endpoint.kind === 'physical') return E.left({ _tag: 'NotHotpluggable', link, kind: endpoint.kind });

    // The netns side: nothing for vhost-user, an attachment (and fds) otherwise.
    let attachment: Attachment | undefined;
    let nic: HotNic;
    let fds: number[] = [];
    if (endpoint.kind === 'vhost-user') {
      nic = { kind: 'vhost-user', id: o.nicId, mac: endpoint.link.mac ?? '', socket: endpoint.socket, queues: o.queues };
    } else {
      const a = await attach(ns, endpoint, modelFor(o.model)(endpoint), { queues: o.queues })();
      if (E.isLeft(a)) return E.left({ _tag: 'Netmodel', error: a.left });
      attachment = a.right;
      const opened = openQueues(ns, a.right, o.vhost === true);
      if (E.isLeft(opened)) return undoNetns(ns, attachment, { _tag: 'Sys', error: opened.left });
      fds = [...opened.right.queueFds, ...opened.right.vhostFds];
      nic = { kind: a.right.device, id: o.nicId, mac: a.right.guestMac, mtu: a.right.mtu, ...opened.right };
    }
    const plugged = await plugNicWith(vm.qmp, nic, { accel: vm.accel }, faults)();
    // QEMU holds its own copies now (or none, after a failure): ours go either way.
    closeFds(fds);
    if (E.isLeft(plugged)) return undoNetns(ns, attachment, { _tag: 'Hotplug', error: plugged.left });

    const mac = nic.mac.toLowerCase();
    const config = guestConfigFor(snapshot, [{ link: endpoint.link, mac, mtu: attachment?.mtu ?? endpoint.link.mtu }], o.ping ?? []);
    const guest = faults.failGuest === true
      ? E.left<GuestControlError, readonly GuestEvent[]>({ _tag: 'ControlTimeout', waitingFor: 'TAPWIRE-APPLIED (fault injected in place of the guest)', ms: 0 })
      : await vm.control.apply(config, `plug-${o.nicId}`, o.guestTimeoutMs ?? DEFAULT_GUEST_MS);
    const state = E.isRight(guest) ? guest.right.find((e) => e._tag === 'NicState' && e.mac === mac) : undefined;
    const failure: HotAttachError | undefined = E.isLeft(guest)
      ? { _tag: 'GuestControl', error: guest.left }
      : state === undefined || state._tag !== 'NicState' || state.state !== 'up'
        ? { _tag: 'GuestNic', mac, state: 'missing', detail: 'the guest found no NIC with this MAC after the plug' }
        : undefined;
    if (failure !== undefined) {
      const out = await unplugNic(vm.qmp, plugged.right, { accel: vm.accel, ...(o.unplugTimeoutMs === undefined ? {} : { unplugTimeoutMs: o.unplugTimeoutMs }) })();
      if (E.isLeft(out)) return E.left({ _tag: 'UndoFailed', error: failure, undo: [describeHotplugError(out.left)] });
      return undoNetns(ns, attachment, failure);
    }
    const spec = nicSpecOfHot(nic, link, attachment, plugged.right.pciAddress);
    return E.right({ netns: ns.spec, link, mac, attachment, plugged: plugged.right, spec, guest: E.isRight(guest) ? guest.right : [] });
  };

/** Detaches what this call attached; the original failure is what is returned. */
const undoNetns = async <A>(ns: NetnsHandle, attachment: Attachment | undefined, error: HotAttachError): Promise<E.Either<HotAttachError, A>> => {
  if (attachment === undefined || attachment.existing === true) return E.left(error);
  const d = await detach(ns, attachment)();
  return E.left(E.isLeft(d) ? { _tag: 'UndoFailed', error, undo: [describeNetmodelError(d.left)] } : error);
};

/** Plugs pod link `link` of `ns` into the running VM; undone on any failure. */
export const hotAttach = (vm: HotVm, ns: NetnsHandle, link: string, o: HotAttachOptions): TE.TaskEither<HotAttachError, HotAttachResult> =>
  hotAttachWith(vm, ns, link, o);

export interface HotDetachOptions {
  readonly unplugTimeoutMs?: number;
  /** How long the guest gets to confirm the NIC gone. */
  readonly guestTimeoutMs?: number;
}

/**
 * Unplugs (the guest must release the device), asks the guest to confirm the
 * NIC gone, then detaches the endpoint in the netns. A guest that keeps the
 * device leaves everything in place (UnplugTimeout) so it can be retried.
 */
export const hotDetach =
  (vm: HotVm, ns: NetnsHandle, a: HotAttached, o: HotDetachOptions = {}): TE.TaskEither<HotAttachError, { readonly guestConfirmed: boolean }> =>
  async () => {
    const out = await unplugNic(vm.qmp, a.plugged, { accel: vm.accel, ...(o.unplugTimeoutMs === undefined ? {} : { unplugTimeoutMs: o.unplugTimeoutMs }) })();
    if (E.isLeft(out)) return E.left({ _tag: 'Hotplug', error: out.left });
    const gone = await vm.control.gone(a.mac, o.guestTimeoutMs ?? DEFAULT_GUEST_MS);
    if (a.attachment !== undefined && a.attachment.existing !== true) {
      const d = await detach(ns, a.attachment)();
      if (E.isLeft(d)) return E.left({ _tag: 'Netmodel', error: d.left });
    }
    if (E.isLeft(gone)) return E.left({ _tag: 'GuestControl', error: gone.left });
    if (!gone.right) return E.left({ _tag: 'GuestNic', mac: a.mac, state: 'present', detail: 'QEMU deleted the device but the guest still shows the NIC' });
    return E.right({ guestConfirmed: true });
  };

export type { Endpoint };
