// kubevirt's macvtap device-plugin configuration (DP_MACVTAP_CONF): a JSON
// array of {name, lowerDevice, mode = bridge, capacity = 100}, one resource
// macvtap.network.kubevirt.io/<name> each. `[]` means one resource per
// physical link (PCI bus-info, per @tapwire/endpoints) or bond of the host,
// named after the link.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import { classify, describeEndpointsError, reportDecodeErrors, scan, type EndpointsError, type Link } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
import { NonNegativeInt } from './spec/codecs.js';
import { MACVTAP_MODES } from './plugins/macvtap.js';

export const RESOURCE_PREFIX = 'macvtap.network.kubevirt.io/';

const ResourceConf = t.intersection([
  t.type({ name: t.string, lowerDevice: t.string }),
  t.partial({ mode: t.keyof({ bridge: null, vepa: null, private: null, passthru: null }, `a macvtap mode (${MACVTAP_MODES.join(', ')})`), capacity: NonNegativeInt }),
], 'resource');
const ResourceConfs = t.array(ResourceConf, 'DP_MACVTAP_CONF');

export interface MacvtapResource {
  /** macvtap.network.kubevirt.io/<name> */
  readonly resourceName: string;
  readonly name: string;
  readonly lowerDevice: string;
  readonly mode: (typeof MACVTAP_MODES)[number];
  readonly capacity: number;
}

export type ResourceConfError = { readonly _tag: 'BadResourceConf'; readonly problems: readonly string[] };

/** right([]) for `[]`: the caller then discovers the host's links (discoverResources). */
export const parseMacvtapResources = (text: string): E.Either<ResourceConfError, readonly MacvtapResource[]> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left({ _tag: 'BadResourceConf', problems: [`DP_MACVTAP_CONF is not JSON: ${(e as Error).message}`] });
  }
  const r = ResourceConfs.decode(json);
  if (E.isLeft(r)) return E.left({ _tag: 'BadResourceConf', problems: reportDecodeErrors('DP_MACVTAP_CONF', r.left) });
  const names = r.right.map((x) => x.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) return E.left({ _tag: 'BadResourceConf', problems: [`resource name ${JSON.stringify(dup)} appears twice`] });
  return E.right(r.right.map((x) => ({ resourceName: `${RESOURCE_PREFIX}${x.name}`, name: x.name, lowerDevice: x.lowerDevice, mode: x.mode ?? 'bridge', capacity: x.capacity ?? 100 })));
};

/** The default resources for `[]`, from links already classified. */
export const defaultResources = (links: readonly { link: Link; physical: boolean }[]): readonly MacvtapResource[] =>
  links
    .filter(({ link, physical }) => physical || link.kind === 'bond')
    .map(({ link }) => ({ resourceName: `${RESOURCE_PREFIX}${link.name}`, name: link.name, lowerDevice: link.name, mode: 'bridge' as const, capacity: 100 }));

/** What finding the resources can fail with: a bad DP_MACVTAP_CONF, or the host scan (endpoints' union, wrapped whole). */
export type ResourceError = ResourceConfError | { readonly _tag: 'Endpoints'; readonly error: EndpointsError };

export const describeResourceError = (e: ResourceError): string => {
  if (e._tag === 'BadResourceConf') return e.problems.join('; ');
  // Every decode problem, not describeEndpointsError's first three: the operator fixes the host from this line.
  return e.error._tag === 'DecodeError' ? `cannot decode ${e.error.input}: ${e.error.problems.join('; ')}` : describeEndpointsError(e.error);
};

/** Scans the host netns (ethtool bus-info needs the FFI layer: CLI only, never the plugins). */
export const discoverResources =
  (host: NetnsHandle): TE.TaskEither<ResourceError, readonly MacvtapResource[]> =>
  async () => {
    const snap = await scan(host)();
    if (E.isLeft(snap)) return E.left({ _tag: 'Endpoints', error: snap.left });
    return E.right(defaultResources(classify(snap.right).map((e) => ({ link: e.link, physical: e.kind === 'physical' }))));
  };
