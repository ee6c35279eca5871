// `tapwire vm start|add|remove|list|stop`: a long-running VM a person drives.
// start runs in the foreground (vm-start.ts); the other verbs find it in the
// VM directory and ask it over its API socket (vm-api.ts).
import * as E from 'fp-ts/lib/Either.js';
import { usage, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { askVm, type VmRequest } from './vm-api.js';
import { DEFAULT_VM_DIR, listVms, readRecord, releaseVmDir, VM_NAME_RE, vmPaths } from './vm-registry.js';
import { VM_START_HELP } from './vm-start-help.js';
import { parseVerbArgs, usageOf, type Verb } from './verb-args.js';
import { processAlive } from '@tapwire/sys';

export const VM_HELP = `tapwire vm start <netns> [--nics none|all] | add <vm> <netns> <link> [--model M] [--queues N] | remove <vm> <link> | list | stop <vm> [--json] [--vm-dir DIR]
  A VM that keeps running while NICs come and go (QMP hotplug).
  start   boot a guest in <netns> in the foreground (see tapwire vm start --help)
  add     plug <link> of <netns> into the running VM: attach it (--model, default
          tcfilter; --queues, default 1), pass its fds to QEMU, tell the guest its
          addresses and routes; and wait for the guest to report it up
  remove  unplug the NIC of <link>: the guest releases it, its endpoint is detached
  list    the VMs under --vm-dir (default ${DEFAULT_VM_DIR}) and their NICs
  stop    unplug every NIC, detach the endpoints, stop QEMU

${VM_START_HELP}`;

const VERB: Verb = { name: 'vm', help: VM_HELP };
const ASK_MS = 300_000;
const failed = (message: string): CliError => ({ _tag: 'Failed', message });

const common = { json: { type: 'boolean', default: false }, 'vm-dir': { type: 'string', default: DEFAULT_VM_DIR } } as const;

/** Finds a running VM by name and sends it one request; prints its answer. */
const ask = async (vmDir: string, name: string, req: VmRequest, io: Output, json: boolean, show: (result: unknown) => string): Promise<E.Either<CliError, void>> => {
  if (!VM_NAME_RE.test(name)) return E.left(usageOf(VERB, `bad VM name ${JSON.stringify(name)}`));
  const rec = readRecord(vmPaths(vmDir, name));
  if (E.isLeft(rec)) return E.left(failed(`no VM named ${name} under ${vmDir}`));
  if (!processAlive(rec.right.pid)) return E.left(failed(`VM ${name} is not running (its vm start process ${rec.right.pid} is gone): tapwire vm stop ${name} removes the leftover`));
  const res = await askVm(rec.right.apiSocket, req, ASK_MS);
  if (E.isLeft(res)) return E.left(failed(`VM ${name}: ${res.left}`));
  if (!res.right.ok) return E.left(res.right.exit === 2 ? usage(`vm: ${res.right.error}`) : failed(`VM ${name}: ${res.right.error}`));
  io.out(json ? JSON.stringify(res.right.result, null, 2) : show(res.right.result));
  return E.right(undefined);
};

const nicLine = (n: unknown): string => {
  const x = n as { id?: string; link?: string; netns?: string; model?: string; queues?: number; pciAddress?: string | null; mac?: string };
  return `${x.id ?? '?'}: ${x.netns ?? '?'}/${x.link ?? '?'} mac ${x.mac ?? '?'} (${x.model ?? '?'}, ${x.queues ?? '?'} queue(s)) at ${x.pciAddress ?? '?'}`;
};

export const vmCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'start':
      // Loaded here only: it pulls in @tapwire/qemu, which the other verbs do not need.
      return (await import('./vm-start.js')).vmStartCommand(rest, io);
    case 'add': {
      const p = parseVerbArgs(VERB, rest, { ...common, model: { type: 'string', default: 'tcfilter' }, queues: { type: 'string', default: '1' } });
      if (E.isLeft(p)) return p;
      const [name, netns, link, ...extra] = p.right.positionals;
      if (name === undefined || netns === undefined || link === undefined || extra.length > 0) return E.left(usageOf(VERB, 'add: expected <vm> <netns> <link>'));
      const queues = Number(p.right.values.queues);
      if (!Number.isInteger(queues) || queues < 1 || queues > 256) return E.left(usageOf(VERB, `add: --queues ${JSON.stringify(p.right.values.queues)}: expected an integer from 1 to 256`));
      return ask(p.right.values['vm-dir'], name, { op: 'add', netns, link, model: p.right.values.model, queues }, io, p.right.values.json, (r) => `plugged ${nicLine(r)}`);
    }
    case 'remove': {
      const p = parseVerbArgs(VERB, rest, common);
      if (E.isLeft(p)) return p;
      const [name, link, ...extra] = p.right.positionals;
      if (name === undefined || link === undefined || extra.length > 0) return E.left(usageOf(VERB, 'remove: expected <vm> <link>'));
      return ask(p.right.values['vm-dir'], name, { op: 'remove', link }, io, p.right.values.json, (r) => `unplugged ${nicLine(r)}; the guest reports it gone, the endpoint is detached`);
    }
    case 'stop': {
      const p = parseVerbArgs(VERB, rest, common);
      if (E.isLeft(p)) return p;
      const [name, ...extra] = p.right.positionals;
      if (name === undefined || extra.length > 0) return E.left(usageOf(VERB, 'stop: expected <vm>'));
      const vmDir = p.right.values['vm-dir'];
      const paths = vmPaths(vmDir, name);
      const rec = readRecord(paths);
      if (E.isRight(rec) && !processAlive(rec.right.pid)) {
        releaseVmDir(paths);
        io.out(p.right.values.json ? JSON.stringify({ name, removed: 'leftover' }) : `VM ${name} was not running: its leftover entry is removed`);
        return E.right(undefined);
      }
      const r = await ask(vmDir, name, { op: 'stop' }, io, p.right.values.json, () => `stopping VM ${name}`);
      if (E.isLeft(r) || E.isLeft(rec)) return r;
      // The start process unplugs, detaches and stops QEMU, then exits: wait for it.
      const deadline = Date.now() + ASK_MS;
      while (processAlive(rec.right.pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      return processAlive(rec.right.pid) ? E.left(failed(`VM ${name}: still running after ${ASK_MS / 1000} s`)) : E.right(undefined);
    }
    case 'list': {
      const p = parseVerbArgs(VERB, rest, common);
      if (E.isLeft(p)) return p;
      if (p.right.positionals.length > 0) return E.left(usageOf(VERB, 'list: takes no arguments'));
      const vms = listVms(p.right.values['vm-dir']);
      if (p.right.values.json) io.out(JSON.stringify(vms.map((v) => ({ name: v.name, alive: v.alive, problem: v.problem ?? null, ...(v.record === undefined ? {} : { vm: v.record }) })), null, 2));
      else if (vms.length === 0) io.out('no VMs');
      else
        io.out(
          vms
            .map((v) =>
              v.record === undefined
                ? `${v.name}: ${v.problem ?? 'unreadable'}`
                : [`${v.name}: ${v.alive ? 'running' : 'not running (leftover)'} in ${v.record.netns}, QEMU pid ${v.record.qemuPid}, QMP ${v.record.qmpSocket}`, ...v.record.nics.map((n) => `  ${nicLine(n)}`)].join('\n'),
            )
            .join('\n'),
        );
      return E.right(undefined);
    }
    default:
      return E.left(usageOf(VERB, sub === undefined ? 'expected start, add, remove, list or stop' : `unknown vm command ${JSON.stringify(sub)}`));
  }
};
