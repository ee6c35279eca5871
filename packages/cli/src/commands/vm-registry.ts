// Where running VMs are found: one directory per VM under /run/tapwire/vms
// (--vm-dir for tests), holding its sockets and vm.json. The `vm start`
// process owns the directory and removes it when it ends; a directory whose
// pid is dead is a leftover, listed as such and removed by `vm stop`.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { processAlive } from '@tapwire/sys';

export const DEFAULT_VM_DIR = '/run/tapwire/vms';
export const VM_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

const VmNicC = t.type({ id: t.string, netns: t.string, link: t.string, mac: t.string, model: t.string, queues: t.number, pciAddress: t.union([t.string, t.null]) });
export const VmRecordC = t.type(
  {
    version: t.literal(1),
    name: t.string,
    netns: t.string,
    pid: t.number,
    qemuPid: t.number,
    qmpSocket: t.string,
    apiSocket: t.string,
    startedAt: t.string,
    nics: t.array(VmNicC),
  },
  'VmRecord',
);
export type VmRecord = t.TypeOf<typeof VmRecordC>;
export type VmNicRecord = t.TypeOf<typeof VmNicC>;

export interface VmPaths {
  readonly dir: string;
  readonly record: string;
  /** QMP for people and other tools (a second monitor): the runtime holds its own. */
  readonly qmpSocket: string;
  readonly runtimeQmpSocket: string;
  readonly controlSocket: string;
  readonly apiSocket: string;
  readonly serialLog: string;
}

export const vmPaths = (vmDir: string, name: string): VmPaths => {
  const dir = join(vmDir, name);
  return {
    dir,
    record: join(dir, 'vm.json'),
    qmpSocket: join(dir, 'qmp.sock'),
    runtimeQmpSocket: join(dir, 'runtime-qmp.sock'),
    controlSocket: join(dir, 'control.sock'),
    apiSocket: join(dir, 'api.sock'),
    serialLog: join(dir, 'serial.log'),
  };
};

/** Written whole to a temp file and renamed: a reader never sees half of it. */
export const writeRecord = (p: VmPaths, r: VmRecord): void => {
  const tmp = `${p.record}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(VmRecordC.encode(r), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, p.record);
};

export const readRecord = (p: VmPaths): E.Either<string, VmRecord> => {
  let text: string;
  try {
    text = readFileSync(p.record, 'utf8');
  } catch (e) {
    return E.left(`no VM record ${p.record}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return E.left(`${p.record} is not JSON`);
  }
  const d = VmRecordC.decode(json);
  return E.isLeft(d) ? E.left(`${p.record} is not a tapwire VM record`) : E.right(d.right);
};

export interface ListedVm {
  readonly name: string;
  readonly record: VmRecord | undefined;
  /** The `vm start` process is running. */
  readonly alive: boolean;
  readonly problem: string | undefined;
}

export const listVms = (vmDir: string): ListedVm[] => {
  let names: string[];
  try {
    names = readdirSync(vmDir).filter((n) => VM_NAME_RE.test(n)).sort();
  } catch {
    return [];
  }
  return names.map((name) => {
    const r = readRecord(vmPaths(vmDir, name));
    return E.isLeft(r) ? { name, record: undefined, alive: false, problem: r.left } : { name, record: r.right, alive: processAlive(r.right.pid), problem: undefined };
  });
};

/** Makes the VM's directory; refuses a name in use by a live VM, clears a dead one's leftovers. */
export const claimVmDir = (vmDir: string, name: string): E.Either<string, VmPaths> => {
  const p = vmPaths(vmDir, name);
  const prior = readRecord(p);
  if (E.isRight(prior) && processAlive(prior.right.pid)) return E.left(`a VM named ${name} is running (pid ${prior.right.pid})`);
  rmSync(p.dir, { recursive: true, force: true });
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  return E.right(p);
};

export const releaseVmDir = (p: VmPaths): void => rmSync(p.dir, { recursive: true, force: true });
