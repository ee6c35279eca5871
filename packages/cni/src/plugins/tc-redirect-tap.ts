// The `tc-redirect-tap` plugin (as firecracker-go-sdk's): chained after an
// interface plugin (ptp, bridge...), it gives CNI_IFNAME a tap wired to it by
// netmodel's tcfilter model (ingress qdiscs + u32 mirred redirects both ways).
//
// The result is upstream's (awslabs/tc-redirect-tap, vmconf package docs):
// prevResult unchanged - CNI_IFNAME keeps its IPs, which is where runtimes
// look for the pod's address - plus the tap (sandbox = the netns) and a VM
// pseudo-interface named after the tap with sandbox = CNI_CONTAINERID,
// CNI_IFNAME's MAC and a copy of CNI_IFNAME's IPs: the VM's NIC takes them
// over. CNI_IFNAME is thus listed once; the tap's name twice, told apart by
// sandbox, which is how firecracker-go-sdk's vmconf pairs the two.
//
// CNI_ARGS: TC_REDIRECT_TAP_NAME (default netmodel's tw<ifindex>, unique per
// netns, where firecracker says tap0), TC_REDIRECT_TAP_UID and _GID (the tap's
// owner and group, so an unprivileged VMM can attach it).
//
// Cost: ADD reads the netns (2 spawns), applies the plan (2), reads the tap's
// MAC (1); DEL and CHECK are netmodel's detach/check (2 reads, <=2 changes).
import * as E from 'fp-ts/lib/Either.js';
import type { Endpoint, Link } from '@tapwire/endpoints';
import { applyPlan, check as netmodelCheck, describeNetmodelError, detach, plan, readNetns, type NetmodelError } from '@tapwire/netmodel';
import type { NetnsHandle } from '@tapwire/sys';
import { ipamGc, ipamStatus } from '../ipam.js';
import { openNetns, requireNetns } from '../netns.js';
import type { Ctx, Outcome, Plugin } from '../skel.js';
import { NetConf } from '../spec/config.js';
import { validateIfname, type CniEnv } from '../spec/env.js';
import { CODES, cniError, type CniError } from '../spec/errors.js';
import type { Result, ResultInterface } from '../spec/result.js';
import { intArg, readLink } from './common.js';

export const TcRedirectTapConf = NetConf;
export type TcRedirectTapConf = NetConf;

const netmodelFailure = (what: string, e: NetmodelError): CniError => {
  const code = e._tag === 'LinkNotFound' ? CODES.linkNotFound : e._tag === 'ForeignLinkExists' ? CODES.nameTaken : CODES.netnsCommand;
  return cniError(code, what, describeNetmodelError(e));
};

interface TapArgs {
  readonly name: string | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

const tapArgs = (env: CniEnv): E.Either<CniError, TapArgs> => {
  const name = env.args.get('TC_REDIRECT_TAP_NAME');
  const bad = name === undefined ? undefined : validateIfname(name);
  if (bad !== undefined) return E.left(cniError(CODES.invalidEnv, `invalid CNI_ARGS TC_REDIRECT_TAP_NAME=${name ?? ''}`, `a link name ${bad}`));
  const uid = intArg(env, 'TC_REDIRECT_TAP_UID');
  if (E.isLeft(uid)) return uid;
  const gid = intArg(env, 'TC_REDIRECT_TAP_GID');
  if (E.isLeft(gid)) return gid;
  return E.right({ name, uid: uid.right, gid: gid.right });
};

/** The redirect works on any link with a MAC; the endpoint kind only steers netmodel's support table. */
const endpointOf = (link: Link): Endpoint => {
  const kind = link.kind === 'macvlan' || link.kind === 'ipvlan' || link.kind === 'vlan' ? link.kind : 'veth';
  return { kind, link, reason: 'CNI_IFNAME, made by the previous plugin in the chain', skipped: undefined };
};

const prevResultNeeded = (cmd: string): CniError =>
  cniError(CODES.invalidConfig, `tc-redirect-tap is a chained plugin: ${cmd} needs prevResult`, 'put it after an interface plugin (ptp, bridge, macvlan...) in a conflist');

const add = async (ctx: Ctx<TcRedirectTapConf>): Outcome<Omit<Result, 'cniVersion'>> => {
  const { env, prevResult } = ctx;
  if (prevResult === undefined) return E.left(prevResultNeeded('ADD'));
  const ifname = env.ifname ?? '';
  const args = tapArgs(env);
  if (E.isLeft(args)) return args;
  const ns = requireNetns(env.netns ?? '');
  if (E.isLeft(ns)) return ns;
  const view = await readNetns(ns.right)();
  if (E.isLeft(view)) return E.left(netmodelFailure(`cannot read ${ns.right.path}`, view.left));
  const link = view.right.links.find((l) => l.name === ifname);
  if (link === undefined) return E.left(cniError(CODES.linkNotFound, `CNI_IFNAME ${ifname} is not in ${ns.right.path}`, 'the previous plugin in the chain should have made it'));
  const { name, uid, gid } = args.right;
  const p = plan(endpointOf(link), 'tcfilter', {
    ...(name === undefined ? {} : { tapName: name }),
    ...(uid === undefined ? {} : { owner: uid }),
    ...(gid === undefined ? {} : { group: gid }),
  });
  if (E.isLeft(p)) return E.left(netmodelFailure(`cannot plan a tap for ${ifname}`, p.left));
  const tap = p.right.tapName;
  if (view.right.links.some((l) => l.name === tap)) return E.left(cniError(CODES.nameTaken, `${tap} already exists in ${ns.right.path}`, 'choose another TC_REDIRECT_TAP_NAME'));
  const applied = await applyPlan(ns.right, p.right)();
  if (E.isLeft(applied)) return E.left(netmodelFailure(`wiring a tap to ${ifname} failed`, applied.left));
  const tapLink = await readLink(ns.right, tap);
  const tapMac = E.isRight(tapLink) ? tapLink.right?.mac : undefined;
  return E.right(redirectResult(prevResult, ifname, ns.right, env.containerId ?? '', { name: tap, mac: tapMac ?? '', sandbox: ns.right.path }, link.mac ?? ''));
};

/**
 * prevResult plus the tap and the VM pseudo-interface (the tap's name,
 * sandbox = the container id, CNI_IFNAME's MAC); each IP on CNI_IFNAME is
 * also given to the VM interface.
 */
export const redirectResult = (prev: Result, ifname: string, ns: NetnsHandle, containerId: string, tap: ResultInterface, mac: string): Omit<Result, 'cniVersion'> => {
  const interfaces = [...(prev.interfaces ?? [])];
  const linkIdx = interfaces.findIndex((i) => i.name === ifname && i.sandbox === ns.path);
  interfaces.push(tap);
  const vmIdx = interfaces.push({ name: tap.name, mac, sandbox: containerId }) - 1;
  const ips = prev.ips ?? [];
  const onLink = linkIdx < 0 ? [] : ips.filter((ip) => ip.interface === linkIdx);
  return {
    interfaces,
    ips: [...ips, ...onLink.map((ip) => ({ ...ip, interface: vmIdx }))],
    ...(prev.routes === undefined ? {} : { routes: prev.routes }),
    ...(prev.dns === undefined ? {} : { dns: prev.dns }),
  };
};

/** The tap named in a result: the VM interface's name (sandbox = the container id), else a netns interface other than CNI_IFNAME. */
const tapFromResult = (r: Result | undefined, ifname: string, netns: string, containerId: string | undefined): string | undefined =>
  r?.interfaces?.find((i) => containerId !== undefined && i.sandbox === containerId)?.name ?? r?.interfaces?.find((i) => i.sandbox === netns && i.name !== ifname)?.name;

/** DEL: netmodel detach by CNI_IFNAME, then by the tap name when CNI_IFNAME is already gone. */
const del = async (ctx: Ctx<TcRedirectTapConf>): Outcome<void> => {
  const { env } = ctx;
  if (env.netns === undefined) return E.right(undefined);
  const ns = openNetns(env.netns);
  if (E.isLeft(ns) || ns.right === undefined) return E.right(undefined);
  const ifname = env.ifname ?? '';
  const r = await detach(ns.right, ifname)();
  if (E.isLeft(r)) return E.left(netmodelFailure(`detaching the tap of ${ifname} failed`, r.left));
  if (r.right.detached.length > 0) return E.right(undefined);
  const args = tapArgs(env);
  const tap = (E.isRight(args) ? args.right.name : undefined) ?? tapFromResult(ctx.prevResult, ifname, ns.right.path, env.containerId);
  if (tap === undefined) return E.right(undefined);
  const again = await detach(ns.right, tap)();
  return E.isLeft(again) ? E.left(netmodelFailure(`detaching ${tap} failed`, again.left)) : E.right(undefined);
};

const check = async (ctx: Ctx<TcRedirectTapConf>): Outcome<void> => {
  const { env, prevResult } = ctx;
  if (prevResult === undefined) return E.left(prevResultNeeded('CHECK'));
  const ns = requireNetns(env.netns ?? '');
  if (E.isLeft(ns)) return ns;
  const ifname = env.ifname ?? '';
  const reports = await netmodelCheck(ns.right, ifname)();
  if (E.isLeft(reports)) return E.left(netmodelFailure(`checking ${ifname} failed`, reports.left));
  const problems = reports.right.flatMap((r) => r.findings.map((f) => f.message));
  const tap = reports.right[0]?.attachment.tapName;
  if (tap !== undefined && !(prevResult.interfaces ?? []).some((i) => i.name === tap && i.sandbox === ns.right.path)) {
    problems.push(`prevResult does not list the tap ${tap}`);
  }
  const vm = (prevResult.interfaces ?? []).find((i) => i.name === tap && i.sandbox === env.containerId);
  if (vm === undefined) problems.push(`prevResult has no VM interface ${tap ?? ifname} (sandbox ${env.containerId ?? ''})`);
  else if (vm.mac !== reports.right[0]?.attachment.guestMac) problems.push(`the VM interface's MAC ${vm.mac ?? '-'} is not ${ifname}'s ${reports.right[0]?.attachment.guestMac ?? '-'}`);
  return problems.length === 0 ? E.right(undefined) : E.left(cniError(CODES.checkFailed, `the tap of ${ifname} in ${ns.right.path} is not what ADD made`, problems.join('; ')));
};

export const tcRedirectTapPlugin: Plugin<TcRedirectTapConf> = {
  name: 'tc-redirect-tap',
  codec: TcRedirectTapConf,
  add,
  del,
  check,
  status: ipamStatus,
  gc: ipamGc,
};
