// The CNI result (ADD's output, CHECK's and DEL's prevResult) as an io-ts codec,
// and its rendering for each spec version.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { reportDecodeErrors } from '@tapwire/endpoints';
import { Cidr, Ip, NonNegativeInt } from './codecs.js';
import { ipsCarryVersion } from './version.js';

export const ResultInterface = t.intersection([
  t.type({ name: t.string }),
  t.partial({ mac: t.string, mtu: NonNegativeInt, sandbox: t.string, socketPath: t.string, pciID: t.string }),
], 'interface');
export type ResultInterface = t.TypeOf<typeof ResultInterface>;

export const ResultIp = t.intersection([
  t.type({ address: Cidr }),
  t.partial({ version: t.union([t.literal('4'), t.literal('6')]), gateway: Ip, interface: NonNegativeInt }),
], 'ip');
export type ResultIp = t.TypeOf<typeof ResultIp>;

export const ResultRoute = t.intersection([
  t.type({ dst: Cidr }),
  t.partial({ gw: Ip, mtu: NonNegativeInt, advmss: NonNegativeInt, priority: NonNegativeInt, table: NonNegativeInt, scope: NonNegativeInt }),
], 'route');
export type ResultRoute = t.TypeOf<typeof ResultRoute>;

export const Dns = t.partial({
  nameservers: t.array(t.string),
  domain: t.string,
  search: t.array(t.string),
  options: t.array(t.string),
}, 'dns');
export type Dns = t.TypeOf<typeof Dns>;

/** Accepts every supported version's result (ips[].version optional). */
export const Result = t.intersection([
  t.type({ cniVersion: t.string }),
  t.partial({ interfaces: t.array(ResultInterface), ips: t.array(ResultIp), routes: t.array(ResultRoute), dns: Dns }),
], 'result');
export type Result = t.TypeOf<typeof Result>;

/** Strict per-version shape: 0.3.x/0.4.0 ips carry version, 1.x ips must not; interface indexes point into interfaces. */
export const resultProblems = (r: Result): string[] => {
  const problems: string[] = [];
  const withVersion = ipsCarryVersion(r.cniVersion);
  for (const [i, ip] of (r.ips ?? []).entries()) {
    if (withVersion && ip.version === undefined) problems.push(`ips[${i}] has no version (required by ${r.cniVersion})`);
    if (!withVersion && ip.version !== undefined) problems.push(`ips[${i}] has a version field (removed in 1.0.0)`);
    const fam = ip.address.includes(':') ? '6' : '4';
    if (ip.version !== undefined && ip.version !== fam) problems.push(`ips[${i}] says version ${ip.version} for ${ip.address}`);
    if (ip.interface !== undefined && ip.interface >= (r.interfaces ?? []).length) problems.push(`ips[${i}].interface ${ip.interface} points past interfaces`);
  }
  return problems;
};

export const decodeResult = (root: string, u: unknown): E.Either<string, Result> => {
  const r = Result.decode(u);
  if (E.isLeft(r)) return E.left(reportDecodeErrors(root, r.left).slice(0, 4).join('; '));
  return E.right(r.right);
};

/** The result in the wire format of `version`, fields in spec order, empty lists kept only where the spec shows them. */
export const renderResult = (r: Omit<Result, 'cniVersion'>, version: string): Result => {
  const withVersion = ipsCarryVersion(version);
  const ips = (r.ips ?? []).map((ip): ResultIp => {
    const { version: _v, ...rest } = ip;
    return withVersion ? { ...rest, version: ip.address.includes(':') ? '6' : '4' } : rest;
  });
  return {
    cniVersion: version,
    ...(r.interfaces === undefined ? {} : { interfaces: r.interfaces }),
    ips,
    ...(r.routes === undefined || r.routes.length === 0 ? {} : { routes: r.routes }),
    dns: r.dns ?? {},
  };
};
