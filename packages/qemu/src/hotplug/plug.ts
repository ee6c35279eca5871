// NIC hotplug and unplug over QMP, the way QEMU documents it and Kata does it:
//   plug:   getfd per queue/vhost fd (SCM_RIGHTS) | chardev-add (vhost-user)
//           -> netdev_add -> device_add virtio-net-pci on a free reserved root port
//   unplug: device_del -> DEVICE_DELETED -> netdev_del -> chardev-remove | closefd
// Every plug step that succeeded has an inverse, kept on a stack: a failure
// runs the stack backwards, so QEMU ends as it was. Plug and unplug of one VM
// run one at a time (the free port is read, then taken).
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { interruptsFor, type Accel } from '../args/render-nic.js';
import type { Qmp, QmpError } from '../launch/qmp.js';
import { waitForEvent } from '../launch/qmp-events.js';
import type { HotplugError, PlugStep } from './errors.js';
import { formatPciAddress, freePort, readPci, type PciAddress } from './pci.js';

/**
 * A NIC to plug into a running VM. Unlike args/nic.ts (fd numbers as a child
 * QEMU sees them), these fds are open in this process: QEMU gets copies over
 * QMP, and the caller closes its own afterwards.
 */
export type HotNic =
  | {
      readonly kind: 'tap' | 'macvtap';
      readonly id: string;
      readonly mac: string;
      readonly mtu: number;
      readonly queueFds: readonly number[];
      /** Empty (vhost off) or one /dev/vhost-net fd per queue fd. */
      readonly vhostFds: readonly number[];
    }
  | { readonly kind: 'vhost-user'; readonly id: string; readonly mac: string; readonly socket: string; readonly queues: number };

/** What unplug needs: plain data, so a runtime can save it and unplug after a restart. */
export interface PluggedNic {
  readonly id: string;
  /** The virtio-net-pci device id (device_del, DEVICE_DELETED). */
  readonly device: string;
  /** The root port it sits behind. */
  readonly port: string;
  /** Names QEMU still holds our fds under (closefd): none once netdev_add took them, kept for older states. */
  readonly fdNames: readonly string[];
  readonly chardev: string | undefined;
  /** Where the guest sees it, e.g. 0000:01:00.0 (undefined when QEMU did not say). */
  readonly pciAddress: string | undefined;
}

export interface HotplugOptions {
  readonly accel: Accel;
  /** Per QMP command. */
  readonly commandTimeoutMs?: number;
  /** How long the guest gets to release a device after device_del. */
  readonly unplugTimeoutMs?: number;
}

/** Internal: make one step fail as QEMU refusing it would (tests of the undo path). */
export interface PlugFaults {
  readonly failAt?: PlugStep;
  /** Which occurrence of the step fails (getfd runs once per fd); default the last. */
  readonly occurrence?: number;
}

const DEFAULT_COMMAND_MS = 10_000;
const DEFAULT_UNPLUG_MS = 30_000;
const DEFAULT_MTU = 1500;

/** The device id is the NIC id, as render-nic.ts gives cold-plugged NICs (netdevs and devices are apart in QEMU). */
export const deviceIdOf = (nicId: string): string => nicId;
export const chardevIdOf = (nicId: string): string => `chr-${nicId}`;
const fdNamesOf = (nic: HotNic): { queue: string[]; vhost: string[] } =>
  nic.kind === 'vhost-user'
    ? { queue: [], vhost: [] }
    : { queue: nic.queueFds.map((_, i) => `${nic.id}-q${i}`), vhost: nic.vhostFds.map((_, i) => `${nic.id}-v${i}`) };

/** One VM's plugs and unplugs in turn: a port read free must still be free when taken. */
const turns = new WeakMap<Qmp, Promise<unknown>>();
const inTurn = <A>(qmp: Qmp, f: () => Promise<A>): Promise<A> => {
  const prior = turns.get(qmp) ?? Promise.resolve();
  const next = prior.then(f, f);
  turns.set(qmp, next.catch(() => undefined));
  return next;
};

const queuesOf = (nic: HotNic): number => (nic.kind === 'vhost-user' ? nic.queues : nic.queueFds.length);

const checkNic = (nic: HotNic): HotplugError | undefined => {
  const bad = (field: string, expected: string): HotplugError => ({ _tag: 'BadHotNic', nic: nic.id, field, expected });
  if (!/^[A-Za-z][A-Za-z0-9_.-]{0,60}$/.test(nic.id)) return bad('id', 'a QEMU id: a letter, then letters, digits, - . _');
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(nic.mac)) return bad('mac', 'xx:xx:xx:xx:xx:xx');
  const q = queuesOf(nic);
  if (!Number.isInteger(q) || q < 1 || q > 256) return bad('queues', '1 to 256 queues');
  if (nic.kind !== 'vhost-user' && nic.vhostFds.length !== 0 && nic.vhostFds.length !== q) return bad('vhost fds', 'none, or one per queue fd');
  return undefined;
};

/** virtio-net-pci as render-nic.ts renders it at boot, plus an id and a bus. */
export const deviceArgs = (nic: HotNic, port: string, accel: Accel): Record<string, unknown> => {
  const queues = queuesOf(nic);
  const vhostBackend = nic.kind === 'vhost-user' || nic.vhostFds.length > 0;
  const args: Record<string, unknown> = { driver: 'virtio-net-pci', id: deviceIdOf(nic.id), netdev: nic.id, mac: nic.mac, bus: port, romfile: '' };
  if (queues > 1) args['mq'] = true;
  if (interruptsFor(accel, vhostBackend) === 'intx') args['vectors'] = 0;
  else if (queues > 1) args['vectors'] = 2 * queues + 2;
  if (nic.kind !== 'vhost-user' && nic.mtu !== DEFAULT_MTU) args['host_mtu'] = nic.mtu;
  return args;
};

export const netdevArgs = (nic: HotNic): Record<string, unknown> => {
  if (nic.kind === 'vhost-user') {
    const a: Record<string, unknown> = { type: 'vhost-user', id: nic.id, chardev: chardevIdOf(nic.id) };
    if (nic.queues > 1) a['queues'] = nic.queues;
    return a;
  }
  const names = fdNamesOf(nic);
  const single = names.queue.length === 1;
  const a: Record<string, unknown> = { type: 'tap', id: nic.id, ...(single ? { fd: names.queue[0] } : { fds: names.queue.join(':') }) };
  if (names.vhost.length === 0) a['vhost'] = false;
  else Object.assign(a, { vhost: true }, single ? { vhostfd: names.vhost[0] } : { vhostfds: names.vhost.join(':') });
  return a;
};

interface Undo {
  readonly command: string;
  readonly args: Record<string, unknown>;
}

/** Internal entry with the fault hook; the published plugNic has none. */
export const plugNicWith =
  (qmp: Qmp, nic: HotNic, o: HotplugOptions, faults: PlugFaults = {}): TE.TaskEither<HotplugError, PluggedNic> =>
  () =>
    inTurn(qmp, async (): Promise<E.Either<HotplugError, PluggedNic>> => {
      const bad = checkNic(nic);
      if (bad !== undefined) return E.left(bad);
      const timeoutMs = o.commandTimeoutMs ?? DEFAULT_COMMAND_MS;
      const pci = await readPci(qmp, timeoutMs)();
      if (E.isLeft(pci)) return E.left({ _tag: 'QueryPci', error: pci.left });
      const port = freePort(pci.right);
      if (port === undefined) return E.left({ _tag: 'NoFreePort', nic: nic.id, ports: pci.right.ports.length });

      const undo: Undo[] = [];
      const seen = new Map<PlugStep, number>();
      const total = (step: PlugStep): number => (step === 'getfd' ? fdNamesOf(nic).queue.length + fdNamesOf(nic).vhost.length : 1);
      const injected = (step: PlugStep): QmpError | undefined => {
        const n = (seen.get(step) ?? 0) + 1;
        seen.set(step, n);
        return faults.failAt === step && n === (faults.occurrence ?? total(step))
          ? { _tag: 'QmpCommand', command: step, class: 'Injected', desc: 'fault injected at this step' }
          : undefined;
      };
      const rollback = async (): Promise<QmpError[]> => {
        const failed: QmpError[] = [];
        for (const u of undo.reverse()) {
          const r = await qmp.execute(u.command, u.args, { timeoutMs });
          if (E.isLeft(r)) failed.push(r.left);
        }
        return failed;
      };
      /** Runs one step; on failure undoes every earlier one. */
      const step = async (s: PlugStep, run: () => Promise<E.Either<QmpError, unknown>>, inverse: Undo): Promise<HotplugError | undefined> => {
        const r = injected(s) ?? (await run().then((x) => (E.isLeft(x) ? x.left : undefined)));
        if (r === undefined) {
          undo.push(inverse);
          return undefined;
        }
        return { _tag: 'HotplugStep', nic: nic.id, step: s, error: r, undo: await rollback() };
      };

      const names = fdNamesOf(nic);
      const fdNames: string[] = [];
      if (nic.kind !== 'vhost-user') {
        const pairs: [string, number][] = [
          ...names.queue.map((n, i): [string, number] => [n, nic.queueFds[i] ?? -1]),
          ...names.vhost.map((n, i): [string, number] => [n, nic.vhostFds[i] ?? -1]),
        ];
        for (const [name, fd] of pairs) {
          const e = await step('getfd', () => qmp.executeWithFds('getfd', { fdname: name }, [fd], { timeoutMs }), { command: 'closefd', args: { fdname: name } });
          if (e !== undefined) return E.left(e);
          fdNames.push(name);
        }
      } else {
        const chardev = { id: chardevIdOf(nic.id), backend: { type: 'socket', data: { addr: { type: 'unix', data: { path: nic.socket } }, server: false } } };
        const e = await step('chardev-add', () => qmp.execute('chardev-add', chardev, { timeoutMs }), { command: 'chardev-remove', args: { id: chardevIdOf(nic.id) } });
        if (e !== undefined) return E.left(e);
      }
      const netdev = await step('netdev_add', () => qmp.execute('netdev_add', netdevArgs(nic), { timeoutMs }), { command: 'netdev_del', args: { id: nic.id } });
      if (netdev !== undefined) return E.left(netdev);
      // netdev_add took the named fds out of the monitor (monitor_get_fd removes
      // them): the netdev owns them now and netdev_del closes them, so closefd
      // no longer applies to them, neither in a rollback nor in an unplug.
      undo.splice(0, undo.length, ...undo.filter((u) => u.command !== 'closefd'));
      fdNames.splice(0);
      // device_add is the last step: nothing after it can fail, so its inverse
      // (device_del, which needs the guest) is never run by a rollback.
      const device = await step('device_add', () => qmp.execute('device_add', deviceArgs(nic, port, o.accel), { timeoutMs }), { command: 'device_del', args: { id: deviceIdOf(nic.id) } });
      if (device !== undefined) return E.left(device);
      const after = await readPci(qmp, timeoutMs)();
      const addr: PciAddress | undefined = E.isRight(after) ? after.right.addressOf(deviceIdOf(nic.id)) : undefined;
      return E.right({
        id: nic.id,
        device: deviceIdOf(nic.id),
        port,
        fdNames,
        chardev: nic.kind === 'vhost-user' ? chardevIdOf(nic.id) : undefined,
        pciAddress: addr === undefined ? undefined : formatPciAddress(addr),
      });
    });

/** Plugs `nic` into the running VM behind a free reserved root port; undone on any failure. */
export const plugNic = (qmp: Qmp, nic: HotNic, o: HotplugOptions): TE.TaskEither<HotplugError, PluggedNic> => plugNicWith(qmp, nic, o);

const isDeletedEvent = (device: string) => (e: { event: string; data?: unknown }): boolean =>
  e.event === 'DEVICE_DELETED' && typeof e.data === 'object' && e.data !== null && (e.data as { device?: unknown }).device === device;

/**
 * Asks the guest to release the device and waits for QEMU's DEVICE_DELETED;
 * only then are its netdev, chardev and fds taken away. A guest that does not
 * release it in time gets UnplugTimeout and the NIC stays whole (a later
 * unplug may still succeed: device_del again is harmless).
 */
export const unplugNic =
  (qmp: Qmp, p: PluggedNic, o: HotplugOptions): TE.TaskEither<HotplugError, void> =>
  () =>
    inTurn(qmp, async (): Promise<E.Either<HotplugError, void>> => {
      const timeoutMs = o.commandTimeoutMs ?? DEFAULT_COMMAND_MS;
      const waitMs = o.unplugTimeoutMs ?? DEFAULT_UNPLUG_MS;
      const from = qmp.events().length;
      const del = await qmp.execute('device_del', { id: p.device }, { timeoutMs });
      // DeviceNotFound: already gone (an earlier unplug got this far).
      const alreadyGone = E.isLeft(del) && del.left._tag === 'QmpCommand' && del.left.class === 'DeviceNotFound';
      if (E.isLeft(del) && !alreadyGone) return E.left({ _tag: 'UnplugStep', nic: p.id, step: 'device_del', error: del.left });
      if (!alreadyGone) {
        const ev = await waitForEvent(qmp, isDeletedEvent(p.device), waitMs, from);
        if (ev === undefined) return E.left({ _tag: 'UnplugTimeout', nic: p.id, device: p.device, ms: waitMs });
      }
      const gone = (r: E.Either<QmpError, unknown>): boolean => E.isRight(r) || (r.left._tag === 'QmpCommand' && /not found|DeviceNotFound/i.test(`${r.left.class} ${r.left.desc}`));
      const nd = await qmp.execute('netdev_del', { id: p.id }, { timeoutMs });
      if (!gone(nd) && E.isLeft(nd)) return E.left({ _tag: 'UnplugStep', nic: p.id, step: 'netdev_del', error: nd.left });
      if (p.chardev !== undefined) {
        const cr = await qmp.execute('chardev-remove', { id: p.chardev }, { timeoutMs });
        if (!gone(cr) && E.isLeft(cr)) return E.left({ _tag: 'UnplugStep', nic: p.id, step: 'chardev-remove', error: cr.left });
      }
      for (const name of p.fdNames) {
        const cf = await qmp.execute('closefd', { fdname: name }, { timeoutMs });
        if (!gone(cf) && E.isLeft(cf)) return E.left({ _tag: 'UnplugStep', nic: p.id, step: 'closefd', error: cf.left });
      }
      return E.right(undefined);
    });
