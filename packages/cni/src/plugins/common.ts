// Pieces the interface plugins share: CNI_ARGS options, addressing the link the
// way the reference plugins' ipam.ConfigureIface does, and error mapping.
import * as E from 'fp-ts/lib/Either.js';
import { decodeLinks, type Link } from '@tapwire/endpoints';
import { describeSysError, runBatchJson, type NetnsHandle, type SysError } from '@tapwire/sys';
import { isUnicastMac } from '../spec/codecs.js';
import { CODES, cniError, type CniError } from '../spec/errors.js';
import type { Result } from '../spec/result.js';
import type { CniEnv } from '../spec/env.js';

export type Argv = readonly string[];

/** MAC precedence: runtimeConfig.mac > CNI_ARGS MAC= > the config's mac. */
export const pickMac = (env: CniEnv, runtimeMac: string | undefined, confMac: string | undefined): E.Either<CniError, string | undefined> => {
  const argMac = env.args.get('MAC');
  if (argMac !== undefined && !isUnicastMac(argMac)) {
    return E.left(cniError(CODES.invalidEnv, `invalid CNI_ARGS MAC=${argMac}`, 'expected a unicast MAC address like 02:00:00:00:00:01'));
  }
  return E.right((runtimeMac ?? argMac ?? confMac)?.toLowerCase());
};

/** A non-negative integer CNI_ARGS value, or undefined when the key is absent. */
export const intArg = (env: CniEnv, key: string): E.Either<CniError, number | undefined> => {
  const v = env.args.get(key);
  if (v === undefined) return E.right(undefined);
  return /^[0-9]{1,10}$/.test(v) && Number(v) <= 0xffffffff
    ? E.right(Number(v))
    : E.left(cniError(CODES.invalidEnv, `invalid CNI_ARGS ${key}=${v}`, 'expected a non-negative integer id'));
};

const familyOf = (cidr: string): 4 | 6 => (cidr.includes(':') ? 6 : 4);

/**
 * ip lines giving `ifname` the result's addresses and routes; a route without
 * gw goes through the gateway of the first address of its family, when any.
 */
export const addressingLines = (ifname: string, r: Pick<Result, 'ips' | 'routes'>): Argv[] => {
  const ips = r.ips ?? [];
  const gwFor = (fam: 4 | 6): string | undefined => ips.find((ip) => familyOf(ip.address) === fam && ip.gateway !== undefined)?.gateway;
  return [
    ...ips.map((ip) => ['addr', 'add', ip.address, 'dev', ifname]),
    ...(r.routes ?? []).map((rt) => {
      const gw = rt.gw ?? gwFor(familyOf(rt.dst));
      return ['route', 'add', rt.dst, ...(gw === undefined ? [] : ['via', gw]), 'dev', ifname, ...(rt.priority === undefined ? [] : ['metric', String(rt.priority)])];
    }),
  ];
};

export const sysFailure = (what: string, e: SysError): CniError => cniError(CODES.netnsCommand, what, describeSysError(e));

/** One link of the netns by name (1 spawn), undefined when there is none. */
export const readLink = async (ns: NetnsHandle, name: string): Promise<E.Either<CniError, Link | undefined>> => {
  const r = await runBatchJson(ns, [['addr', 'show', 'dev', name]])();
  if (E.isLeft(r)) {
    if (r.left._tag === 'CommandFailed' && /does not exist|Cannot find device/.test(r.left.stderr)) return E.right(undefined);
    return E.left(sysFailure(`cannot read link ${name}`, r.left));
  }
  const links = decodeLinks(r.right[0]);
  if (E.isLeft(links)) return E.left(cniError(CODES.internal, `cannot decode ip's output for ${name}`, links.left.problems.join('; ')));
  return E.right(links.right[0]);
};

/** Which interface of a result is `ifname` in `sandbox`. */
export const interfaceIndex = (r: Result, ifname: string, sandbox: string): number =>
  (r.interfaces ?? []).findIndex((i) => i.name === ifname && i.sandbox === sandbox);

/** CHECK helpers: the addresses a result gives interface `index` (or every address when none is pinned). */
export const addressesOf = (r: Result, index: number): string[] =>
  (r.ips ?? []).filter((ip) => ip.interface === undefined || ip.interface === index).map((ip) => ip.address);

export const missingAddresses = (link: Link, expected: readonly string[]): string[] => {
  const have = new Set(link.addresses.map((a) => `${a.local}/${a.prefixlen}`));
  return expected.filter((a) => !have.has(a));
};
