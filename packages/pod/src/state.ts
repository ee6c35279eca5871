// The pod's state dir (default /run/tapwire/pods/<name>/): pod.json holds
// everything DEL needs (identity, netns, node netns, CNI_PATH, and per
// network the exact config, CNI_ARGS, runtimeConfig, device and result);
// network-status.json is the annotation Multus would write. Written before
// the first ADD and after each, so `pod down` can finish a pod a crash left.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { problemsOf, type PodError } from './errors.js';

export const DEFAULT_STATE_ROOT = '/run/tapwire/pods';

const NetConfListC = t.type({ cniVersion: t.string, name: t.string, plugins: t.array(t.UnknownRecord) });
const NetworkStateC = t.intersection([
  t.type({
    network: t.string,
    ifname: t.string,
    isDefault: t.boolean,
    conf: NetConfListC,
    cniArgs: t.string,
    runtimeConfig: t.UnknownRecord,
    /** ADD was started: DEL is owed (even when ADD failed half-way). */
    attempted: t.boolean,
  }),
  t.partial({ resourceName: t.string, deviceId: t.string, deviceInfoFile: t.string, defaultRoute: t.array(t.string), result: t.unknown }),
]);
export const PodStateC = t.intersection([
  t.type({
    pod: t.type({ name: t.string, namespace: t.string, uid: t.string, containerId: t.string, netns: t.string, netnsName: t.string }),
    annotation: t.string,
    cniPath: t.array(t.string),
    networks: t.array(NetworkStateC),
  }),
  t.partial({ nodeNetns: t.string }),
]);
export type NetworkState = t.TypeOf<typeof NetworkStateC>;
export type PodState = t.TypeOf<typeof PodStateC>;

export const podDir = (root: string, name: string): string => join(root, name);
export const STATE_FILE = 'pod.json';
export const STATUS_FILE = 'network-status.json';

const writeAtomic = (path: string, value: unknown): E.Either<PodError, void> => {
  try {
    writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
    return E.right(undefined);
  } catch (e) {
    return E.left({ _tag: 'Io', what: 'writing pod state', path, detail: (e as Error).message });
  }
};

export const makePodDir = (root: string, name: string): E.Either<PodError, string> => {
  const dir = podDir(root, name);
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    mkdirSync(dir, { mode: 0o700 });
    return E.right(dir);
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') return E.left({ _tag: 'PodExists', name, where: dir });
    return E.left({ _tag: 'Io', what: 'making the pod state dir', path: dir, detail: (e as Error).message });
  }
};

export const writeState = (root: string, s: PodState): E.Either<PodError, void> => writeAtomic(join(podDir(root, s.pod.name), STATE_FILE), s);
export const writeStatus = (root: string, name: string, status: unknown): E.Either<PodError, void> => writeAtomic(join(podDir(root, name), STATUS_FILE), status);

const readJson = (path: string): E.Either<PodError, unknown> => {
  try {
    return E.right(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    return E.left({ _tag: 'BadState', file: path, problems: [(e as Error).message] });
  }
};

export const readState = (root: string, name: string): E.Either<PodError, PodState> => {
  const file = join(podDir(root, name), STATE_FILE);
  try {
    readFileSync(file);
  } catch {
    return E.left({ _tag: 'PodNotFound', name, stateDir: root });
  }
  const raw = readJson(file);
  if (E.isLeft(raw)) return raw;
  return E.mapLeft((errs: t.Errors): PodError => ({ _tag: 'BadState', file, problems: problemsOf(errs) }))(PodStateC.decode(raw.right));
};

export const readStatus = (root: string, name: string): E.Either<PodError, unknown> => {
  const r = readState(root, name);
  if (E.isLeft(r)) return r;
  return readJson(join(podDir(root, name), STATUS_FILE));
};

export const removePodDir = (root: string, name: string): void => rmSync(podDir(root, name), { recursive: true, force: true });

/** Devices of a resource held by the pods in root (kubelet's checkpoint, for this rig). */
export const devicesInUse = (root: string, resourceName: string): ReadonlySet<string> => {
  const used = new Set<string>();
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return used;
  }
  for (const n of names) {
    const s = readState(root, n);
    if (E.isRight(s)) for (const net of s.right.networks) if (net.resourceName === resourceName && net.deviceId !== undefined) used.add(net.deviceId);
  }
  return used;
};
