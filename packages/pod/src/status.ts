// k8s.v1.cni.cncf.io/network-status from the delegates' results, the way
// Multus reports it (NPWG v1.x, 4.1.2.1.10): one entry per network in order,
// name, the pod interface's name and MAC, its IPs (addresses without the
// prefix), default for the cluster network, dns, device-info when given.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { problemsOf } from './errors.js';

export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';

const Iface = t.intersection([t.type({ name: t.string }), t.partial({ mac: t.string, sandbox: t.string })]);
const Ip = t.intersection([t.type({ address: t.string }), t.partial({ gateway: t.string, interface: t.number })]);
const Dns = t.partial({ nameservers: t.array(t.string), domain: t.string, search: t.array(t.string), options: t.array(t.string) });
/** The parts of a CNI result (0.3.0-1.1.0) the status needs; the rest is kept as is. */
export const CniResult = t.partial({ cniVersion: t.string, interfaces: t.array(Iface), ips: t.array(Ip), dns: Dns }, 'a CNI result');
export type CniResult = t.TypeOf<typeof CniResult>;

export const decodeCniResult = (u: unknown): E.Either<readonly string[], CniResult> => E.mapLeft(problemsOf)(CniResult.decode(u));

export interface NetworkStatus {
  readonly name: string;
  readonly interface?: string;
  readonly ips?: readonly string[];
  readonly mac?: string;
  readonly default?: true;
  readonly dns: t.TypeOf<typeof Dns>;
  readonly 'device-info'?: unknown;
}

export const networkStatus = (network: string, ifname: string, isDefault: boolean, result: CniResult, deviceInfo: unknown): NetworkStatus => {
  const ifaces = result.interfaces ?? [];
  // The interface asked for; else, as Multus, the last one inside a sandbox.
  let index = ifaces.findIndex((i) => i.name === ifname && (i.sandbox ?? '') !== '');
  if (index < 0) index = ifaces.map((i) => (i.sandbox ?? '') !== '').lastIndexOf(true);
  const iface = ifaces[index];
  const ips = (result.ips ?? []).filter((ip) => ip.interface === undefined || ip.interface === index).map((ip) => ip.address.split('/')[0] ?? ip.address);
  return {
    name: network,
    ...(iface === undefined ? {} : { interface: iface.name }),
    ...(ips.length === 0 ? {} : { ips }),
    ...(iface?.mac === undefined || iface.mac === '' ? {} : { mac: iface.mac }),
    ...(isDefault ? { default: true as const } : {}),
    dns: result.dns ?? {},
    ...(deviceInfo === undefined ? {} : { 'device-info': deviceInfo }),
  };
};
