// Effect: turn attachments into NICs a VMM can take. Reads the devices'
// ifindexes (one `ip` spawn), opens every queue fd inside the netns (tap:
// TUNSETIFF; macvtap: its char device through the netns's own sysfs) and,
// with vhost-net, one /dev/vhost-net fd per queue. Returns the NicSpecs, the
// fds per NIC, and close(); a failure closes whatever it opened.
//
// A child process inherits the fds through its stdio array: inheritFds says
// which fd number each one gets in the child, the numbers a renderer writes.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { decodeLinks, type Endpoint } from '@tapwire/endpoints';
import type { Attachment } from '@tapwire/netmodel';
import { closeFds, openMacvtapQueues, openTapQueues, openVhostNet, runBatchJson, type NetnsHandle, type SysError } from '@tapwire/sys';
import { describeNics, type DescribeOptions } from './describe.js';
import { abortedError, sysError, type VmError } from './errors.js';
import type { NicFds, NicSpec } from './nic.js';

export interface PrepareOptions extends Omit<DescribeOptions, 'ifindexOf'> {
  /** Open one /dev/vhost-net fd per tap/macvtap queue (the kernel then serves the rings). */
  readonly vhost?: boolean;
  readonly signal?: AbortSignal;
}

/** An fd this process holds for a NIC, and what it is (for a human). */
export interface HeldFd {
  readonly fd: number;
  readonly what: string;
}

export interface PreparedNics {
  readonly nics: readonly NicSpec[];
  /** fds[i] belongs to nics[i] (both empty for vhost-user and vfio): this process's fd numbers. */
  readonly fds: readonly NicFds[];
  /** Every held fd in inheritFds order, named. */
  readonly held: readonly HeldFd[];
  /** Closes every fd this preparation holds; idempotent. Call it once the VMM has its copies. */
  readonly close: () => void;
}

/** Where the fds land in a child started with stdio ['ignore', out, err, ...inherited]. */
export interface InheritedFds {
  /** The parent fds, in child order from fd FIRST_CHILD_FD up: append them to the stdio array. */
  readonly inherited: readonly number[];
  /** Per NIC, the fd numbers the child sees: what a renderer writes (QEMU fds=/vhostfds=). */
  readonly positions: readonly NicFds[];
}

/** 0, 1 and 2 are stdio. */
export const FIRST_CHILD_FD = 3;

/**
 * Child fd numbers from 3 upward in a stable order: queue fds of nic 0, vhost
 * fds of nic 0, queue fds of nic 1, ... contiguous, so the stdio array has no holes.
 */
export const inheritFds = (fds: readonly NicFds[]): InheritedFds => {
  const inherited: number[] = [];
  const positions = fds.map((f): NicFds => {
    const at = (xs: readonly number[]) =>
      xs.map((fd) => {
        inherited.push(fd);
        return FIRST_CHILD_FD + inherited.length - 1;
      });
    const queueFds = at(f.queueFds);
    return { queueFds, vhostFds: at(f.vhostFds) };
  });
  return { inherited, positions };
};

/** ifindex by device name, from one `ip -j addr show` in the netns. */
const readIfindexes = async (ns: NetnsHandle): Promise<E.Either<VmError, ReadonlyMap<string, number>>> => {
  const docs = await runBatchJson(ns, [['addr', 'show']])();
  if (E.isLeft(docs)) return E.left(sysError(docs.left));
  const links = decodeLinks(docs.right[0]);
  if (E.isLeft(links)) return E.left({ _tag: 'Endpoints', error: links.left });
  return E.right(new Map(links.right.map((l) => [l.name, l.ifindex])));
};

/** Opens one NIC's fds; on failure closes what it opened itself. */
const openNic = (ns: NetnsHandle, nic: NicSpec, vhost: boolean): E.Either<SysError, NicFds> => {
  const b = nic.backend;
  if (b.kind !== 'tap' && b.kind !== 'macvtap') return E.right({ queueFds: [], vhostFds: [] });
  const queues =
    b.kind === 'macvtap' ? openMacvtapQueues(ns, b.device, nic.queues) : openTapQueues(ns, b.device, { queues: nic.queues, multiQueue: b.multiQueue, vnetHdr: b.vnetHdr });
  if (E.isLeft(queues) || !vhost) return E.map((queueFds: number[]): NicFds => ({ queueFds, vhostFds: [] }))(queues);
  const vhostFds = openVhostNet(nic.queues);
  if (E.isLeft(vhostFds)) {
    closeFds(queues.right);
    return vhostFds;
  }
  return E.right({ queueFds: queues.right, vhostFds: vhostFds.right });
};

const heldOf = (nics: readonly NicSpec[], fds: readonly NicFds[]): HeldFd[] =>
  nics.flatMap((n, i) => {
    const f = fds[i] ?? { queueFds: [], vhostFds: [] };
    const dev = n.backend.kind === 'tap' || n.backend.kind === 'macvtap' ? `${n.backend.kind} ${n.backend.device}` : n.backend.kind;
    return [
      ...f.queueFds.map((fd, q) => ({ fd, what: `${dev} queue ${q}` })),
      ...f.vhostFds.map((fd, q) => ({ fd, what: `/dev/vhost-net for ${dev} queue ${q}` })),
    ];
  });

/** Wraps already opened fds (e.g. a dry run's none, or fds a caller opened) as a PreparedNics. */
export const preparedOf = (nics: readonly NicSpec[], fds: readonly NicFds[]): PreparedNics => {
  let open = true;
  return {
    nics,
    fds,
    held: heldOf(nics, fds),
    close: () => {
      if (!open) return;
      open = false;
      closeFds(fds.flatMap((f) => [...f.queueFds, ...f.vhostFds]));
    },
  };
};

// A function, so a check before an await does not narrow `aborted` for the checks after it.
const isAborted = (signal: AbortSignal | undefined): signal is AbortSignal => signal?.aborted === true;

export const prepareNics =
  (ns: NetnsHandle, endpoints: readonly Endpoint[], attachments: readonly Attachment[], o: PrepareOptions = {}): TE.TaskEither<VmError, PreparedNics> =>
  async () => {
    if (o.signal !== undefined && isAborted(o.signal)) return E.left(abortedError('preparing NICs', o.signal));
    const needIfindex = attachments.length > 0;
    const ifindexes = needIfindex ? await readIfindexes(ns) : E.right(new Map<string, number>());
    if (E.isLeft(ifindexes)) return ifindexes;
    const missing = attachments.find((a) => !ifindexes.right.has(a.tapName));
    if (missing !== undefined) return E.left({ _tag: 'DeviceNotFound', netns: ns.spec, device: missing.tapName });
    const nics = describeNics(endpoints, attachments, { ...o, ifindexOf: (d) => ifindexes.right.get(d) ?? 0 });
    const fds: NicFds[] = [];
    const closeOpened = () => closeFds(fds.flatMap((f) => [...f.queueFds, ...f.vhostFds]));
    for (const nic of nics) {
      if (isAborted(o.signal)) {
        closeOpened();
        return E.left(abortedError('preparing NICs', o.signal));
      }
      const opened = openNic(ns, nic, o.vhost === true);
      if (E.isLeft(opened)) {
        closeOpened();
        return E.left(sysError(opened.left));
      }
      fds.push(opened.right);
    }
    return E.right(preparedOf(nics, fds));
  };
