// The delegation plan, as Multus makes it for one pod: the cluster default
// network first (eth0), then each selected network in annotation order with
// interface net<position> unless the selection names one; each with the
// CNI_ARGS and runtimeConfig Multus would pass. Pure: configs come in as text.
import * as E from 'fp-ts/lib/Either.js';
import type { NetworkSelection } from './annotation.js';
import type { PodError } from './errors.js';
import { nadKey, type Nad } from './nad.js';
import { parseNetConf, withCniArgs, withDeviceId, type Json, type NetConfList } from './netconf.js';

export interface PodIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** The sandbox (infra container) ID: CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID. */
  readonly containerId: string;
  /** CNI_NETNS. */
  readonly netns: string;
}

export interface Delegate {
  /** network-status name: "namespace/name" for a NAD, the config's name for the default. */
  readonly network: string;
  readonly ifname: string;
  readonly isDefault: boolean;
  readonly conf: NetConfList;
  readonly source: string;
  readonly resourceName?: string;
  readonly mac?: string;
  readonly ips?: readonly string[];
  readonly defaultRoute?: readonly string[];
}

export const DEFAULT_IFNAME = 'eth0';

export const ifnameProblem = (s: string): string | undefined => {
  if (s === '' || s === '.' || s === '..') return 'is not a usable interface name';
  if (Buffer.byteLength(s) > 15) return 'is longer than 15 bytes (IFNAMSIZ)';
  if (/[/:\s]/.test(s)) return "contains '/', ':' or whitespace";
  return undefined;
};

/** Where a NAD's config text comes from: spec.config, else the conf dir (an effect, passed in). */
export type ConfigOf = (nad: Nad) => E.Either<PodError, { readonly text: string; readonly source: string }>;

export const specConfigOr =
  (fromConfDir: (nad: Nad) => E.Either<PodError, { readonly text: string; readonly source: string }>): ConfigOf =>
  (nad) =>
    nad.config !== undefined ? E.right({ text: nad.config, source: `${nad.source} spec.config` }) : fromConfDir(nad);

export const planDelegates = (
  defaultNet: { readonly text: string; readonly source: string } | undefined,
  selections: readonly NetworkSelection[],
  nads: ReadonlyMap<string, Nad>,
  configOf: ConfigOf,
): E.Either<PodError, readonly Delegate[]> => {
  const out: Delegate[] = [];
  if (defaultNet !== undefined) {
    const conf = parseNetConf(defaultNet.text, 'default');
    if (E.isLeft(conf)) return E.left({ _tag: 'BadNetConf', network: 'default', source: defaultNet.source, problems: conf.left });
    out.push({ network: conf.right.name, ifname: DEFAULT_IFNAME, isDefault: true, conf: conf.right, source: defaultNet.source });
  }
  for (const [i, sel] of selections.entries()) {
    const network = nadKey(sel.namespace, sel.name);
    const nad = nads.get(network);
    if (nad === undefined) return E.left({ _tag: 'NadNotFound', network, known: [...nads.keys()].sort() });
    const text = configOf(nad);
    if (E.isLeft(text)) return text;
    const parsed = parseNetConf(text.right.text, nad.name);
    if (E.isLeft(parsed)) return E.left({ _tag: 'BadNetConf', network, source: text.right.source, problems: parsed.left });
    const conf = sel.cniArgs === undefined ? parsed.right : withCniArgs(parsed.right, sel.cniArgs);
    const ifname = sel.interface ?? `net${i + 1}`;
    const problem = ifnameProblem(ifname);
    if (problem !== undefined) return E.left({ _tag: 'BadIfname', network, ifname, problem });
    out.push({
      network,
      ifname,
      isDefault: false,
      conf,
      source: text.right.source,
      ...(nad.resourceName === undefined ? {} : { resourceName: nad.resourceName }),
      ...(sel.mac === undefined ? {} : { mac: sel.mac }),
      ...(sel.ips === undefined ? {} : { ips: sel.ips }),
      ...(sel.defaultRoute === undefined ? {} : { defaultRoute: sel.defaultRoute }),
    });
  }
  const seen = new Set<string>();
  for (const d of out) {
    if (seen.has(d.ifname)) return E.left({ _tag: 'BadIfname', network: d.network, ifname: d.ifname, problem: 'is asked for twice in this pod' });
    seen.add(d.ifname);
  }
  return E.right(out);
};

/** CNI_ARGS as libcni renders Multus's RuntimeConf.Args (MAC/IP only when asked for). */
export const cniArgsOf = (pod: PodIdentity, d: Delegate): string =>
  [
    ['IgnoreUnknown', 'true'],
    ['K8S_POD_NAMESPACE', pod.namespace],
    ['K8S_POD_NAME', pod.name],
    ['K8S_POD_INFRA_CONTAINER_ID', pod.containerId],
    ['K8S_POD_UID', pod.uid],
    ...(d.mac === undefined ? [] : [['MAC', d.mac]]),
    ...(d.ips === undefined ? [] : [['IP', d.ips.join(',')]]),
  ]
    .map(([k, v]) => `${k}=${v}`)
    .join(';');

/** Multus's capabilityArgs; pluginStdin keeps only those a plugin declares. */
export const runtimeConfigOf = (d: Delegate, deviceId: string | undefined, deviceInfoFile: string | undefined): Json => ({
  ...(d.mac === undefined ? {} : { mac: d.mac }),
  ...(d.ips === undefined ? {} : { ips: d.ips }),
  ...(deviceId === undefined ? {} : { deviceID: deviceId }),
  ...(deviceInfoFile === undefined ? {} : { CNIDeviceInfoFile: deviceInfoFile }),
});

/** The config handed to the plugins: deviceID in every plugin when a device was allocated. */
export const delegatedConf = (d: Delegate, deviceId: string | undefined): NetConfList => (deviceId === undefined ? d.conf : withDeviceId(d.conf, deviceId));
