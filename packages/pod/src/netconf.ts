// A delegate's CNI configuration, conf or conflist, normalized to a list as
// libcni runs it; and the stdin each plugin of the list gets (libcni's
// buildOneConfig + injectRuntimeConfig: name and cniVersion from the list,
// prevResult, runtimeConfig holding only the capabilities the plugin declares).
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { problemsOf } from './errors.js';

export type Json = Readonly<Record<string, unknown>>;

export interface NetConfList {
  readonly cniVersion: string;
  readonly name: string;
  /** Each plugin's own object, without name/cniVersion (given by the list). */
  readonly plugins: readonly Json[];
}

const Plugin = t.intersection([t.type({ type: t.string }), t.partial({ capabilities: t.record(t.string, t.boolean) })], 'a plugin config (type, optional capabilities)');
const List = t.intersection([t.type({ cniVersion: t.string, plugins: t.array(Plugin) }), t.partial({ name: t.string })], 'a conflist');
const Single = t.intersection([t.type({ cniVersion: t.string, type: t.string }), t.partial({ name: t.string, capabilities: t.record(t.string, t.boolean) })], 'a conf');
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const without = (o: Json, keys: readonly string[]): Json => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/**
 * Parses a config's text. A missing name becomes `fallbackName` (Multus gives
 * a NAD's config the NAD's name); problems are returned, not thrown.
 */
export const parseNetConf = (text: string, fallbackName: string): E.Either<readonly string[], NetConfList> => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return E.left([`not JSON: ${(e as Error).message}`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return E.left(['expected a JSON object']);
  const o = raw as Json;
  let list: NetConfList;
  if ('plugins' in o) {
    const d = List.decode(o);
    if (E.isLeft(d)) return E.left(problemsOf(d.left));
    if (d.right.plugins.length === 0) return E.left(['plugins: expected at least one plugin']);
    list = { cniVersion: d.right.cniVersion, name: d.right.name ?? fallbackName, plugins: (o['plugins'] as Json[]).map((p) => without(p, ['name', 'cniVersion'])) };
  } else {
    const d = Single.decode(o);
    if (E.isLeft(d)) return E.left(problemsOf(d.left));
    list = { cniVersion: d.right.cniVersion, name: d.right.name ?? fallbackName, plugins: [without(o, ['name', 'cniVersion'])] };
  }
  return NAME.test(list.name) ? E.right(list) : E.left([`name ${JSON.stringify(list.name)}: expected alphanumeric first, then alphanumerics, '_', '.', '-'`]);
};

/** Multus's delegateAddDeviceID / ConfListAddDeviceID: every plugin gets "deviceID". */
export const withDeviceId = (list: NetConfList, deviceId: string): NetConfList => ({ ...list, plugins: list.plugins.map((p) => ({ ...p, deviceID: deviceId })) });

/** Multus's "cni-args" of a selection: merged into each plugin's args.cni. */
export const withCniArgs = (list: NetConfList, cniArgs: Json): NetConfList => ({
  ...list,
  plugins: list.plugins.map((p) => {
    const args = (typeof p['args'] === 'object' && p['args'] !== null ? p['args'] : {}) as Json;
    const cni = (typeof args['cni'] === 'object' && args['cni'] !== null ? args['cni'] : {}) as Json;
    return { ...p, args: { ...args, cni: { ...cni, ...cniArgs } } };
  }),
});

export const capabilitiesOf = (plugin: Json): readonly string[] => {
  const caps = plugin['capabilities'];
  if (typeof caps !== 'object' || caps === null) return [];
  return Object.entries(caps as Json).filter(([, on]) => on === true).map(([k]) => k);
};

/** The JSON one plugin of the list reads on stdin. */
export const pluginStdin = (list: NetConfList, index: number, runtimeConfig: Json, prevResult: unknown): Json => {
  const plugin = list.plugins[index] ?? {};
  const rc = Object.fromEntries(capabilitiesOf(plugin).filter((c) => runtimeConfig[c] !== undefined).map((c) => [c, runtimeConfig[c]]));
  return {
    ...plugin,
    cniVersion: list.cniVersion,
    name: list.name,
    ...(prevResult === undefined ? {} : { prevResult }),
    ...(Object.keys(rc).length === 0 ? {} : { runtimeConfig: { ...((plugin['runtimeConfig'] as Json | undefined) ?? {}), ...rc } }),
  };
};

/** DEL gets the cached result as prevResult from 0.4.0 on (libcni), never before. */
export const delGetsPrevResult = (cniVersion: string): boolean => {
  const [maj = 0, min = 0] = cniVersion.split('.').map(Number);
  return maj > 0 || min >= 4;
};
