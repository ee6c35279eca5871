// The pure planner: endpoint + model + options -> the typed, invertible plan.
import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Endpoint, Link, Route } from '@tapwire/endpoints';
import type { PlanError } from './errors.js';
import { MAX_ALIAS_BYTES, MTU_RANGE, type Model, type Op, type Phase, type Plan } from './model.js';
import { defaultTapName, validateQueues, validateTapName } from './names.js';
import { decodeRecord, encodeRecord, MAC, RECORD_WORD, type AttachRecord } from './record.js';
import { resolveOwnership, type TapId } from './ownership.js';
import { addressWords, addrSpec, readdAddress, readdAddressArgv, restorableRoutes, routeSpec, routeWords } from './restore-words.js';
import { argvOf, type Action, type LinkSetting } from './action.js';

export { addressWords, readdAddressArgv, restorableRoutes, routeWords };

export interface PlanOptions {
  /** Queues the VM opens; >1 makes a multi-queue device. Default 1, at most MAX_QUEUES. */
  readonly queues?: number;
  /** Overrides tw<ifindex>; not allowed with model none (the endpoint is the tap). */
  readonly tapName?: string;
  /** The netns's routes (from a scan): model macvtap removes and restores those via the link. */
  readonly routes?: readonly Route[];
  /**
   * tcfilter: uid/gid allowed to attach queues to the tap (the VMM's user).
   * Neither given: this process's euid/egid (ownership.ts); null: none.
   * Only settable at creation; with both set the kernel wants both.
   */
  readonly owner?: TapId;
  readonly group?: TapId;
}

/** Which models each endpoint kind accepts; absent kinds take none at all. */
export const SUPPORTED_MODELS: Readonly<Partial<Record<Endpoint['kind'], readonly Model[]>>> = {
  veth: ['tcfilter', 'macvtap'],
  macvlan: ['tcfilter', 'macvtap'],
  tuntap: ['tcfilter', 'macvtap', 'none'],
  tap: ['tcfilter', 'macvtap', 'none'],
  macvtap: ['none'],
  ipvlan: ['tcfilter'],
  vlan: ['tcfilter'],
};

/**
 * A locally administered unicast MAC for the link while its MAC is lent to the
 * macvtap. Derived from the original (hash, not Math.random) so planning stays
 * pure and re-planning gives the same commands.
 */
export const lentMac = (mac: string): string => {
  const h = createHash('sha256').update(`tapwire:${mac}`).digest();
  const b0 = h[0] ?? 0;
  const bytes = [(b0 & 0xfc) | 0x02, ...h.subarray(1, 6)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
};

/** An op from what it does; its ip/tc argv (what `plan` prints) is rendered from that. */
const op = (what: string, action: Action, undoActions: readonly Action[] = [], retryOnBusy = false): Op => {
  const base = { what, argv: argvOf(action), undo: undoActions.map(argvOf), action, undoActions };
  return retryOnBusy ? { ...base, retryOnBusy } : base;
};

const checkKind = (e: Endpoint, model: Model): E.Either<PlanError, void> => {
  const link = e.link.name;
  if (e.kind === 'physical' || e.kind === 'vhost-user') return E.left({ _tag: 'PassThroughOnly', link, kind: e.kind });
  if (e.skipped !== undefined) return E.left({ _tag: 'NotAttachable', link, kind: e.kind, reason: e.skipped });
  const supported = SUPPORTED_MODELS[e.kind];
  if (supported === undefined) return E.left({ _tag: 'NotAttachable', link, kind: e.kind, reason: e.reason });
  if (!supported.includes(model)) return E.left({ _tag: 'ModelNotSupported', link, kind: e.kind, model, supported });
  return E.right(undefined);
};

const checkRecord = (link: string, r: AttachRecord): E.Either<PlanError, string> => {
  const words: [string, string][] = [
    ['MAC', r.mac],
    ...r.addresses.flatMap((ws) => ws.map((w): [string, string] => ['address', w])),
    ...r.routes.flatMap((ws) => ws.map((w): [string, string] => ['route', w])),
  ];
  const bad = words.find(([, w]) => !RECORD_WORD.test(w));
  if (bad !== undefined) return E.left({ _tag: 'NotEncodable', link, what: bad[0], value: bad[1] });
  const alias = encodeRecord(r);
  // A record detach cannot read back would make an attachment nothing can
  // remove (an Ethernet MAC is 6 octets; ifindexes start at 1).
  const back = decodeRecord(alias);
  if (E.isLeft(back) || JSON.stringify(back.right) !== JSON.stringify(r)) {
    const what = !MAC.test(r.mac) ? 'MAC' : 'record';
    return E.left({ _tag: 'NotEncodable', link, what, value: what === 'MAC' ? r.mac : alias });
  }
  const bytes = Buffer.byteLength(alias, 'utf8');
  return bytes > MAX_ALIAS_BYTES ? E.left({ _tag: 'AliasTooLong', link, bytes, max: MAX_ALIAS_BYTES }) : E.right(alias);
};

interface Common {
  readonly link: Link;
  readonly mac: string;
  readonly tap: string;
  readonly queues: number;
  readonly owner: number | undefined;
  readonly group: number | undefined;
}

/**
 * An ingress qdisc on a link with txqueuelen 0 (the veths and macvlans CNI
 * plugins make) makes the kernel set it to 1000; attach records 0 and detach
 * and rollback put it back (ip omits a txqlen of 0, so undefined is 0).
 */
export const txqlenToKeep = (link: Link): number | undefined => (link.txqlen === undefined || link.txqlen === 0 ? 0 : undefined);

const tcfilterPhases = ({ link, tap, queues, owner, group }: Common, alias: string): readonly Phase[] => {
  const L = link.name;
  const redirect = (from: string, to: string): Op =>
    op(`redirect everything arriving on ${from} to ${to}`, { _tag: 'RedirectAdd', dev: from, to }, [{ _tag: 'FilterDel', dev: from }]);
  const set = (dev: string, s: LinkSetting): Action => ({ _tag: 'LinkSet', dev, set: s });
  return [
    {
      tool: 'ip',
      ops: [
        op(
          `create tap ${tap}`,
          { _tag: 'TapAdd', name: tap, multiQueue: queues > 1, ...(owner === undefined ? {} : { owner }), ...(group === undefined ? {} : { group }) },
          [{ _tag: 'LinkDel', dev: tap }],
        ),
        op(`record the attachment in ${tap}'s alias`, set(tap, { alias })),
        // A no-op now; its undo runs after the tc phase's, once the qdisc that raised it is gone.
        ...(txqlenToKeep(link) === undefined ? [] : [op(`note ${L}'s txqueuelen 0 (an ingress qdisc raises it)`, set(L, { txqlen: 0 }), [set(L, { txqlen: 0 })])]),
        op(`copy ${L}'s MTU to ${tap}`, set(tap, { mtu: link.mtu })),
      ],
    },
    {
      tool: 'tc',
      ops: [
        // Before the tap goes up, or up gives it the default root: one
        // pfifo_fast per tx queue, and a multi_queue tap has 256 of them
        // (~1.5 ms of kernel work to make, more to tear down). They would
        // never hold a packet: a tap's transmit never stops its queues, it
        // drops when the reader lags, as with noqueue.
        op(`pass ${tap}'s transmit straight to the tap (root noqueue)`, { _tag: 'NoqueueAdd', dev: tap }),
        op(`add an ingress qdisc to ${L}`, { _tag: 'IngressAdd', dev: L }, [{ _tag: 'IngressDel', dev: L }], true),
        op(`add an ingress qdisc to ${tap}`, { _tag: 'IngressAdd', dev: tap }, [{ _tag: 'IngressDel', dev: tap }], true),
        redirect(L, tap),
        redirect(tap, L),
      ],
    },
    { tool: 'ip', ops: [op(`bring ${tap} up`, set(tap, { up: true }))] },
  ];
};

const macvtapPhases = ({ link, mac, tap }: Common, alias: string, routes: readonly Route[]): readonly Phase[] => {
  const L = link.name;
  const lent = lentMac(mac);
  const set = (dev: string, s: LinkSetting): Action => ({ _tag: 'LinkSet', dev, set: s });
  return [
    {
      tool: 'ip',
      ops: [
        op(`create macvtap ${tap} on ${L}`, { _tag: 'MacvtapAdd', link: L, name: tap }, [{ _tag: 'LinkDel', dev: tap }]),
        op(`record the attachment in ${tap}'s alias`, set(tap, { alias })),
        op(`copy ${L}'s MTU to ${tap}`, set(tap, { mtu: link.mtu })),
        ...(link.txqlen === undefined ? [] : [op(`copy ${L}'s txqueuelen to ${tap}`, set(tap, { txqlen: link.txqlen }))]),
        // Routes first: they may need the addresses (gateway, src) to be re-added on undo.
        ...routes.map((r) => {
          const route = routeSpec(r);
          return op(`remove route ${routeWords(r).join(' ')} via ${L}`, { _tag: 'RouteDel', dev: L, route }, [{ _tag: 'RouteReplace', dev: L, route }]);
        }),
        // Last address first, so deleting a primary never drops its secondaries with it,
        // and undo (reverse order) re-adds them in the original order.
        ...[...link.addresses].reverse().map((a) => {
          const addr = addrSpec(a);
          return op(`remove address ${a.local}/${a.prefixlen} from ${L}`, { _tag: 'AddrDel', dev: L, addr }, [readdAddress(addr, L)]);
        }),
        op(`give ${L} a locally administered MAC`, set(L, { address: lent }), [set(L, { address: mac })]),
        op(`give ${tap} ${L}'s MAC`, set(tap, { address: mac })),
        // Undone first when a later endpoint of a merged plan fails: a macvlan
        // endpoint cannot take its MAC back while an up macvtap on the same
        // lower device holds it (EADDRINUSE); a down one is out of the way.
        op(`bring ${tap} up`, set(tap, { up: true }), [set(tap, { up: false })]),
      ],
    },
  ];
};

export const plan = (endpoint: Endpoint, model: Model, options: PlanOptions = {}): E.Either<PlanError, Plan> => {
  const link = endpoint.link;
  const kindOk = checkKind(endpoint, model);
  if (E.isLeft(kindOk)) return kindOk;
  const queues = validateQueues(options.queues ?? 1);
  if (E.isLeft(queues)) return queues;
  if (link.mac === undefined) return E.left({ _tag: 'NotAttachable', link: link.name, kind: endpoint.kind, reason: 'it has no MAC address' });
  const mac = link.mac;
  const base = { link: link.name, ifindex: link.ifindex, model, queues: queues.right, guestMac: mac, mtu: link.mtu };

  if (model === 'none') {
    if (options.tapName !== undefined && options.tapName !== link.name) {
      return E.left({ _tag: 'BadTapName', input: options.tapName, expected: `no override: model none hands ${link.name} itself to the VM` });
    }
    const device = endpoint.kind === 'macvtap' ? 'macvtap' : 'tap';
    const multiQueue = endpoint.kind === 'macvtap' || ((endpoint.kind === 'tap' || endpoint.kind === 'tuntap') && endpoint.multiQueue);
    if (queues.right > 1 && !multiQueue) {
      return E.left({ _tag: 'QueuesNotSupported', link: link.name, queues: queues.right, why: 'the tap was made without multi_queue' });
    }
    return E.right({ ...base, tapName: link.name, multiQueue: queues.right > 1, device, alias: undefined, owner: undefined, group: undefined, phases: [] });
  }

  const tap = validateTapName(options.tapName ?? defaultTapName(link.ifindex));
  if (E.isLeft(tap)) return tap;
  if (tap.right === link.name) return E.left({ _tag: 'BadTapName', input: tap.right, expected: `a name other than the endpoint's own (${link.name})` });
  // The device copies the link's MTU: refuse what it cannot take before changing anything.
  const device = model === 'tcfilter' ? 'tap' : 'macvtap';
  const { min, max } = MTU_RANGE[device];
  if (!(Number.isInteger(link.mtu) && link.mtu >= min && link.mtu <= max)) return E.left({ _tag: 'MtuNotSupported', link: link.name, mtu: link.mtu, min, max, device });
  const ids = resolveOwnership(model, options.owner, options.group);
  if (E.isLeft(ids)) return ids;
  const common: Common = { link, mac, tap: tap.right, queues: queues.right, ...ids.right };
  const routes = model === 'macvtap' ? restorableRoutes(options.routes ?? [], link.name) : [];
  const record: AttachRecord = {
    model,
    ifindex: link.ifindex,
    queues: queues.right,
    mac,
    addresses: model === 'macvtap' ? link.addresses.map(addressWords) : [],
    routes: routes.map(routeWords),
    ...(model === 'tcfilter' && txqlenToKeep(link) !== undefined ? { txqlen: txqlenToKeep(link) } : {}),
  };
  const alias = checkRecord(link.name, record);
  if (E.isLeft(alias)) return alias;
  const phases = model === 'tcfilter' ? tcfilterPhases(common, alias.right) : macvtapPhases(common, alias.right, routes);
  return E.right({
    ...base,
    tapName: tap.right,
    multiQueue: queues.right > 1,
    device,
    alias: alias.right,
    ...ids.right,
    phases,
  });
};
