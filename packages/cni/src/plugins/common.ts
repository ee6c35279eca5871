// Pieces the interface plugins share: CNI_ARGS options, addressing the link the
// way the reference plugins' ipam.ConfigureIface does, and error mapping.
import * as E from 'fp-ts/lib/Either.js';
import { decodeLinks, type Link } from '@tapwire/endpoints';
import { describeSysError, runBatch, runBatchJson, type NetnsHandle, type SysError } from '@tapwire/sys';
import { ipamCheck, ipamDel } from '../ipam.js';
import { openNetns, requireNetns } from '../netns.js';
import type { Ctx } from '../skel.js';
import type { NetConf } from '../spec/config.js';
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

/**
 * The ADD result of a plugin that puts one interface in the sandbox: the
 * interface as the kernel has it (MAC, and MTU for 1.1.0), the IPAM plugin's
 * addresses on it, its routes, and the config's DNS before IPAM's.
 */
export const oneInterfaceResult = (
  ctx: Ctx<{ readonly dns?: Result['dns'] }>,
  iface: { readonly name: string; readonly sandbox: string; readonly link: Link | undefined; readonly macFallback: string | undefined },
  ipam: Result | undefined,
): Omit<Result, 'cniVersion'> => ({
  interfaces: [
    {
      name: iface.name,
      mac: iface.link?.mac ?? iface.macFallback ?? '',
      sandbox: iface.sandbox,
      ...(ctx.version === '1.1.0' && iface.link !== undefined ? { mtu: iface.link.mtu } : {}),
    },
  ],
  ips: (ipam?.ips ?? []).map((ip) => ({ ...ip, interface: 0 })),
  ...(ipam?.routes === undefined ? {} : { routes: ipam.routes }),
  dns: ctx.conf.dns ?? ipam?.dns ?? {},
});

/**
 * DEL of a plugin-made link: release the lease, then delete CNI_IFNAME if it
 * is of the kind the plugin makes. A missing netns or link is success (DEL is
 * idempotent); a link of another kind is left alone and said so.
 */
export const deleteOwnLink = async (ctx: Ctx<NetConf>, kind: string, what: string): Promise<E.Either<CniError, void>> => {
  const released = await ipamDel(ctx);
  if (E.isLeft(released)) return released;
  if (ctx.env.netns === undefined) return E.right(undefined);
  const ns = openNetns(ctx.env.netns);
  if (E.isLeft(ns) || ns.right === undefined) return E.right(undefined);
  const ifname = ctx.env.ifname ?? '';
  const link = await readLink(ns.right, ifname);
  if (E.isLeft(link)) return link;
  if (link.right === undefined) return E.right(undefined);
  if (link.right.kind !== kind) {
    ctx.log(`${ifname} in ${ns.right.path} is a ${link.right.kind ?? 'device'}, not ${what}: left alone`);
    return E.right(undefined);
  }
  const r = await runBatch(ns.right, 'ip', [['link', 'del', 'dev', ifname]], { force: true })();
  return E.isLeft(r) ? E.left(sysFailure(`deleting ${ifname} failed`, r.left)) : E.right(undefined);
};

/**
 * CHECK of a plugin that put one link in the sandbox: prevResult is required,
 * IPAM is checked, then the link must exist and still be what ADD made - the
 * checks every such plugin shares (listed in prevResult, MAC, config MTU, up,
 * addresses) plus the plugin's own (`own`).
 */
export const checkOwnLink = async <C extends NetConf & { readonly mtu?: number }>(
  ctx: Ctx<C>,
  own: (l: Link) => readonly string[],
): Promise<E.Either<CniError, void>> => {
  const { env, conf, prevResult } = ctx;
  if (prevResult === undefined) return E.left(cniError(CODES.invalidConfig, 'CHECK needs prevResult (the result of ADD)'));
  const ipamOk = await ipamCheck(ctx);
  if (E.isLeft(ipamOk)) return ipamOk;
  const ns = requireNetns(env.netns ?? '');
  if (E.isLeft(ns)) return ns;
  const ifname = env.ifname ?? '';
  const link = await readLink(ns.right, ifname);
  if (E.isLeft(link)) return link;
  const l = link.right;
  if (l === undefined) return E.left(cniError(CODES.checkFailed, `${ifname} is missing from ${ns.right.path}`));
  const idx = interfaceIndex(prevResult, ifname, ns.right.path);
  const problems: string[] = [...own(l)];
  if (idx < 0) problems.push(`prevResult has no interface ${ifname} in ${ns.right.path}`);
  const want = prevResult.interfaces?.[idx]?.mac;
  if (want !== undefined && want !== l.mac) problems.push(`${ifname} has MAC ${l.mac ?? '-'}, prevResult says ${want}`);
  if (conf.mtu !== undefined && conf.mtu !== l.mtu) problems.push(`${ifname} has MTU ${l.mtu}, the config says ${conf.mtu}`);
  if (!l.flags.includes('UP')) problems.push(`${ifname} is down`);
  const missing = idx < 0 ? [] : missingAddresses(l, addressesOf(prevResult, idx));
  if (missing.length > 0) problems.push(`${ifname} lacks ${missing.join(', ')}`);
  return problems.length === 0 ? E.right(undefined) : E.left(cniError(CODES.checkFailed, `${ifname} in ${ns.right.path} is not what ADD made`, problems.join('; ')));
};
