// `tapwire vm start`: a VM that runs until stopped, in the foreground. It boots
// the guest with reserved hotplug root ports and the control channel, plugs
// the netns's links (--nics all) or none, registers under the VM directory and
// serves `vm add/remove/stop` on its API socket: it holds QEMU's one QMP
// connection and the guest's control port. Stopping (vm stop, SIGINT, SIGTERM)
// unplugs every NIC, detaches its endpoint, stops QEMU and removes the entry.
import * as E from 'fp-ts/lib/Either.js';
import { MODELS } from '@tapwire/netmodel';
import { buildGuestImage, describeGuestControlError, describeQemuError, hotVmOf, renderGuestCmdline, renderMachineArgs, startVm } from '@tapwire/qemu';
import { scanUntilAttachable } from '@tapwire/endpoints';
import { describeSysError, resolveNetns } from '@tapwire/sys';
import { usage, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { add, checkModel, record, serve, shutdown, type Running } from './vm-serve.js';
import { claimVmDir, DEFAULT_VM_DIR, releaseVmDir, VM_NAME_RE, writeRecord } from './vm-registry.js';
import { parseVerbArgs, usageOf, type Verb } from './verb-args.js';
import { VM_START_HELP } from './vm-start-help.js';


const VERB: Verb = { name: 'vm start', help: VM_START_HELP };
const DEFAULT_PORTS = 8;
const BOOT_TIMEOUT_MS = 240_000;

const failed = (message: string): CliError => ({ _tag: 'Failed', message });
const sys = (e: Parameters<typeof describeSysError>[0]): CliError => failed(describeSysError(e));

const intOption = (name: string, v: string | undefined, dflt: number, min: number, max: number): E.Either<CliError, number> => {
  if (v === undefined) return E.right(dflt);
  const n = Number(v);
  return Number.isInteger(n) && n >= min && n <= max ? E.right(n) : E.left(usageOf(VERB, `--${name} ${JSON.stringify(v)}: expected an integer from ${min} to ${max}`));
};

export const vmStartCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const parsed = parseVerbArgs(VERB, argv, {
    nics: { type: 'string', default: 'none' },
    name: { type: 'string' },
    ports: { type: 'string' },
    model: { type: 'string', default: 'tcfilter' },
    queues: { type: 'string' },
    mem: { type: 'string' },
    accel: { type: 'string', default: 'tcg' },
    'vm-dir': { type: 'string', default: DEFAULT_VM_DIR },
    json: { type: 'boolean', default: false },
  });
  if (E.isLeft(parsed)) return parsed;
  const v = parsed.right.values;
  const [spec, ...extra] = parsed.right.positionals;
  if (spec === undefined || extra.length > 0) return E.left(usageOf(VERB, 'expected exactly one netns'));
  if (v.nics !== 'none' && v.nics !== 'all') return E.left(usageOf(VERB, `--nics ${JSON.stringify(v.nics)}: expected none or all`));
  if (v.accel !== 'tcg' && v.accel !== 'kvm') return E.left(usageOf(VERB, `--accel ${JSON.stringify(v.accel)}: expected tcg or kvm`));
  if (!checkModel(v.model)) return E.left(usageOf(VERB, `--model ${JSON.stringify(v.model)}: expected one of ${MODELS.join(', ')}`));
  const model = v.model;
  const accel = v.accel;
  const ports = intOption('ports', v.ports, DEFAULT_PORTS, 1, 120);
  const queues = intOption('queues', v.queues, 1, 1, 256);
  const mem = intOption('mem', v.mem, 256, 64, 65536);
  if (E.isLeft(ports)) return ports;
  if (E.isLeft(queues)) return queues;
  if (E.isLeft(mem)) return mem;
  const name = v.name ?? `vm${process.pid}`;
  if (!VM_NAME_RE.test(name)) return E.left(usage(`vm start: --name ${JSON.stringify(name)}: expected 1 to 32 of A-Z a-z 0-9 _ . - (a letter or digit first)`));
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return E.left(ns.left);

  const image = await buildGuestImage()();
  if (E.isLeft(image)) return E.left(sys(image.left));
  const claimed = claimVmDir(v['vm-dir'], name);
  if (E.isLeft(claimed)) return E.left(failed(claimed.left));
  const paths = claimed.right;
  const append = renderGuestCmdline({ nics: [], control: true, stay: true, waitSeconds: 20 });
  if (E.isLeft(append)) return E.left(failed(JSON.stringify(append.left)));
  const machine = renderMachineArgs({
    accel,
    memMiB: mem.right,
    cpus: Math.min(4, queues.right),
    kernel: image.right.kernelElf ?? image.right.kernel,
    initrd: image.right.initrd,
    append: append.right,
    qmpSocket: paths.runtimeQmpSocket,
    extraQmpSocket: paths.qmpSocket,
    serialLog: paths.serialLog,
    // vhost-user NICs may be added later: their backends map guest RAM.
    needsSharedMemory: true,
    hotplugPorts: ports.right,
    controlSocket: paths.controlSocket,
  });
  if (E.isLeft(machine)) {
    releaseVmDir(paths);
    return E.left(failed(JSON.stringify(machine.left)));
  }
  const handle = await startVm({ ns: ns.right, argv: ['qemu-system-x86_64', ...machine.right], qmpSocket: paths.runtimeQmpSocket, serialLog: paths.serialLog, readyWithinMs: 60_000 })();
  if (E.isLeft(handle)) {
    releaseVmDir(paths);
    return E.left(failed(describeQemuError(handle.left)));
  }
  const hot = await hotVmOf(handle.right, paths.controlSocket, accel, 30_000)();
  if (E.isLeft(hot)) {
    await handle.right.stop()();
    releaseVmDir(paths);
    return E.left(failed(describeGuestControlError(hot.left)));
  }
  const r: Running = { name, ns: ns.right, handle: handle.right, hot: hot.right, paths, plugged: [], next: 0 };
  const up = await hot.right.watch.waitFor((e) => e._tag === 'Control' || e._tag === 'GuestError', 0, BOOT_TIMEOUT_MS);
  if (up === undefined || up._tag !== 'Control') {
    await shutdown(r, io);
    return E.left(failed(`vm ${name}: the guest did not open its control channel within ${BOOT_TIMEOUT_MS / 1000} s`));
  }
  if (v.nics === 'all') {
    const scanned = await scanUntilAttachable(ns.right, 2_000)();
    const links = E.isRight(scanned) ? scanned.right.endpoints.filter((e) => e.skipped === undefined && e.kind !== 'physical').map((e) => e.link.name) : [];
    for (const link of links) {
      const x = await add(r, ns.right, link, model, queues.right);
      if (E.isLeft(x)) {
        await shutdown(r, io);
        return E.left(failed(`vm ${name}: --nics all: ${x.left}`));
      }
    }
  }
  writeRecord(paths, record(r));

  let stopRequested: () => void = () => undefined;
  const stopped = new Promise<'stop' | 'exit'>((resolve) => {
    stopRequested = () => resolve('stop');
    void handle.right.exited.then(() => resolve('exit'));
  });
  const server = serve(r, () => stopRequested());
  await new Promise<void>((resolve) => server.listen(paths.apiSocket, resolve));
  const onSignal = (): void => stopRequested();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const rec = record(r);
  if (v.json) io.out(JSON.stringify({ event: 'running', ...rec }));
  else {
    io.out(`vm ${name}: running (QEMU pid ${handle.right.pid}, ${accel}, ${ports.right} hotplug ports)`);
    io.out(`QMP socket: ${paths.qmpSocket} (a monitor of its own for you; this process holds another)`);
    io.out(`API socket: ${paths.apiSocket} (tapwire vm add|remove|stop ${name})`);
    for (const n of rec.nics) io.out(`NIC ${n.id}: ${n.link} (${n.model}, ${n.queues} queue${n.queues === 1 ? '' : 's'}) at ${n.pciAddress ?? '?'}`);
  }
  const why = await stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await shutdown(r, io);
  server.close();
  if (v.json) io.out(JSON.stringify({ event: 'stopped', name, because: why === 'stop' ? 'asked' : 'QEMU exited' }));
  else io.out(`vm ${name}: stopped (${why === 'stop' ? 'asked' : 'QEMU exited'}); NICs unplugged, endpoints detached`);
  return why === 'exit' ? E.left(failed(`vm ${name}: QEMU exited on its own`)) : E.right(undefined);
};
