// DP_MACVTAP_CONF, kubevirt/macvtap-cni's device plugin configuration: a JSON
// array of {name, lowerDevice, mode = bridge, capacity = 100}, one resource
// macvtap.network.kubevirt.io/<name> each. `[]` means "one resource per
// physical link or bond" (see links.ts). Decoded once at start: anything
// wrong is a BadConfig naming every problem.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeProblems } from './decode.js';
import type { DevicePluginError } from './errors.js';

export const RESOURCE_NAMESPACE = 'macvtap.network.kubevirt.io';
export const CONFIG_ENV = 'DP_MACVTAP_CONF';
export const MACVTAP_MODES = ['bridge', 'vepa', 'private', 'passthru'] as const;
export type MacvtapMode = (typeof MACVTAP_MODES)[number];
/** As upstream: device i of resource R is the host link `R` + `Mvp` + i. */
export const DEVICE_SUFFIX = 'Mvp';
const IFNAMSIZ = 15;

export interface MacvtapResource {
  /** macvtap.network.kubevirt.io/<name> */
  readonly resourceName: string;
  readonly name: string;
  readonly lowerDevice: string;
  readonly mode: MacvtapMode;
  readonly capacity: number;
}

const where = <A>(name: string, ok: (a: A) => boolean, base: t.Type<A>): t.Type<A> =>
  new t.Type<A>(name, (u): u is A => base.is(u) && ok(u), (u, c) => (base.is(u) && ok(u) ? t.success(u) : t.failure(u, c)), t.identity);

// The name part of an extended resource name (kubelet checks it as a qualified name).
const ResourceNamePart = where<string>('a resource name (1-63 of [A-Za-z0-9_.-], alphanumeric at both ends)', (s) => /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(s), t.string);
const LinkName = where<string>("a link name (1-15 bytes, no '/', ':' or whitespace)", (s) => s.length >= 1 && Buffer.byteLength(s) <= IFNAMSIZ && !/[/:\s]/.test(s), t.string);
const Capacity = where<number>('a whole number of devices from 1 to 1000', (n) => Number.isInteger(n) && n >= 1 && n <= 1000, t.number);
const Mode = t.keyof({ bridge: null, vepa: null, private: null, passthru: null }, `a macvtap mode (${MACVTAP_MODES.join(', ')})`);

const ResourceConf = t.intersection([t.type({ name: ResourceNamePart, lowerDevice: LinkName }), t.partial({ mode: Mode, capacity: Capacity })], 'resource');
const ResourceConfs = t.array(ResourceConf, 'an array of resources');

export const toResource = (name: string, lowerDevice: string, mode: MacvtapMode = 'bridge', capacity = 100): MacvtapResource => ({
  resourceName: `${RESOURCE_NAMESPACE}/${name}`,
  name,
  lowerDevice,
  mode,
  capacity,
});

/** The longest device link name of a resource must still be a link name. */
export const deviceNameProblem = (r: MacvtapResource): string | undefined => {
  const longest = `${r.name}${DEVICE_SUFFIX}${r.capacity - 1}`;
  return Buffer.byteLength(longest) <= IFNAMSIZ
    ? undefined
    : `resource ${JSON.stringify(r.name)} with capacity ${r.capacity} names its devices up to ${JSON.stringify(longest)}, longer than a link name's ${IFNAMSIZ} bytes: shorten the name or lower the capacity`;
};

/** right([]) for `[]`: the caller then offers the node's physical links and bonds. */
export const parseConfig = (text: string): E.Either<DevicePluginError, readonly MacvtapResource[]> => {
  const bad = (problems: readonly string[]): E.Either<DevicePluginError, never> => E.left({ _tag: 'BadConfig', input: CONFIG_ENV, problems });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return bad([`not JSON (${(e as Error).message}): ${JSON.stringify(text.slice(0, 80))}`]);
  }
  const decoded = ResourceConfs.decode(json);
  if (E.isLeft(decoded)) return bad(decodeProblems(CONFIG_ENV, decoded.left));
  const resources = decoded.right.map((c) => toResource(c.name, c.lowerDevice, c.mode, c.capacity));
  const names = resources.map((r) => r.name);
  const problems = [
    ...names.filter((n, i) => names.indexOf(n) !== i).map((n) => `resource name ${JSON.stringify(n)} appears more than once`),
    ...resources.map(deviceNameProblem).filter((p): p is string => p !== undefined),
  ];
  return problems.length > 0 ? bad(problems) : E.right(resources);
};
