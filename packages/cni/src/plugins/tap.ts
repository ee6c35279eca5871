// The `tap` plugin (OpenShift's TAP CNI): a tap device in the pod netns, for a
// user-space program (DPDK, QEMU) that attaches its queues.
//
// ADD: IPAM first, then one `ip -batch` in the pod netns that creates the tap
// under a temporary name (so a failure never holds CNI_IFNAME), applies MTU and
// MAC (whether or not owner/group are set), renames it to CNI_IFNAME, enslaves
// it to `bridge`, brings it up, adds the IPAM addresses and routes, and prints
// the link back. A failure deletes what the batch made and releases the lease.
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeLinks } from '@tapwire/endpoints';
import { describeSysError, encodeBatchLine, readTunIds, run, runBatch, splitBatchJson, type NetnsHandle, type TunIds } from '@tapwire/sys';
import { hasIpam, ipamAdd, ipamDel, ipamGc, ipamStatus } from '../ipam.js';
import { requireNetns } from '../netns.js';
import type { Ctx, Outcome, Plugin } from '../skel.js';
import { Mtu, NonNegativeInt, stringWhere, UnicastMac } from '../spec/codecs.js';
import { NetConf } from '../spec/config.js';
import { validateIfname } from '../spec/env.js';
import { CODES, cniError } from '../spec/errors.js';
import type { Result } from '../spec/result.js';
import { addressingLines, checkOwnLink, deleteOwnLink, oneInterfaceResult, pickMac, sysFailure, type Argv } from './common.js';

const LinkName = stringWhere("a link name (1-15 bytes, no '/', ':' or whitespace)", (s) => validateIfname(s) === undefined);

export const TapConf = t.intersection([
  NetConf,
  t.partial({
    multiQueue: t.boolean,
    owner: NonNegativeInt,
    group: NonNegativeInt,
    /** The OpenShift docs spell it selinuxcontext; the reference plugin's JSON tag is selinuxContext. */
    selinuxcontext: t.string,
    selinuxContext: t.string,
    mac: UnicastMac,
    mtu: Mtu,
    bridge: LinkName,
    runtimeConfig: t.partial({ mac: UnicastMac }),
  }),
], 'tap config');
export type TapConf = t.TypeOf<typeof TapConf>;

/** SELinux is enabled when selinuxfs is mounted with an enforce file (enforcing or permissive). */
export const SELINUX_ENFORCE = '/sys/fs/selinux/enforce';

const tempName = (): string => `twc${randomBytes(4).toString('hex')}`;

interface TapLines {
  readonly lines: Argv[];
  /** 1-based line of the rename: lines after it act on CNI_IFNAME. */
  readonly renameLine: number;
  readonly bridgeLine: number | undefined;
}

/** The ADD batch; the last line prints the finished link (JSON). */
export const tapAddLines = (conf: TapConf, tmp: string, ifname: string, mac: string | undefined, addressing: Argv[]): TapLines => {
  const create: Argv = [
    'tuntap', 'add', 'dev', tmp, 'mode', 'tap',
    ...(conf.multiQueue === true ? ['multi_queue'] : []),
    ...(conf.owner === undefined ? [] : ['user', String(conf.owner)]),
    ...(conf.group === undefined ? [] : ['group', String(conf.group)]),
  ];
  // ip resolves `master NAME` while parsing and exits without saying which
  // line failed when NAME is missing, so enslaving comes before the rename:
  // an unnumbered failure then never leaves CNI_IFNAME behind.
  const bridge: Argv[] = conf.bridge === undefined ? [] : [['link', 'set', 'dev', tmp, 'master', conf.bridge]];
  const before: Argv[] = [
    create,
    ...(conf.mtu === undefined ? [] : [['link', 'set', 'dev', tmp, 'mtu', String(conf.mtu)]]),
    ...(mac === undefined ? [] : [['link', 'set', 'dev', tmp, 'address', mac]]),
    ...bridge,
    ['link', 'set', 'dev', tmp, 'name', ifname],
  ];
  const lines = [...before, ['link', 'set', 'dev', ifname, 'up'], ...addressing, ['link', 'show', 'dev', ifname]];
  return { lines, renameLine: before.length, bridgeLine: bridge.length === 0 ? undefined : before.length - 1 };
};

/**
 * Runs the batch, under `runcon CONTEXT` when SELinux is enabled and a context
 * is configured so the tap is created with that label; elsewhere the context
 * is ignored and said so on stderr.
 */
const runTapBatch = (ctx: Ctx<TapConf>, ns: NetnsHandle, lines: Argv[]) => {
  const context = ctx.conf.selinuxContext ?? ctx.conf.selinuxcontext;
  if (context === undefined || context === '') return runBatch(ns, 'ip', lines, { json: true });
  if (!existsSync(SELINUX_ENFORCE)) {
    ctx.log(`SELinux is not enabled (no ${SELINUX_ENFORCE}): selinuxcontext ${JSON.stringify(context)} ignored`);
    return runBatch(ns, 'ip', lines, { json: true });
  }
  const encoded = E.sequenceArray(lines.map(encodeBatchLine));
  if (E.isLeft(encoded)) throw new Error(`cannot encode batch line with ${encoded.left}`);
  return run(['runcon', context, 'ip', '-j', '-d', '-batch', '-'], { netns: ns, input: `${encoded.right.join('\n')}\n` });
};

const add = async (ctx: Ctx<TapConf>): Outcome<Omit<Result, 'cniVersion'>> => {
  const { env, conf } = ctx;
  const ifname = env.ifname ?? '';
  const ns = requireNetns(env.netns ?? '');
  if (E.isLeft(ns)) return ns;
  const mac = pickMac(env, conf.runtimeConfig?.mac, conf.mac);
  if (E.isLeft(mac)) return mac;
  let ipam: Result | undefined;
  if (hasIpam(conf)) {
    const r = await ipamAdd(ctx);
    if (E.isLeft(r)) return r;
    ipam = r.right;
  }
  const releaseLease = async (): Promise<void> => {
    if (ipam === undefined) return;
    const d = await ipamDel(ctx);
    if (E.isLeft(d)) ctx.log(`releasing the IPAM lease after a failed ADD failed too: ${d.left.msg}`);
  };
  const tmp = tempName();
  const plan = tapAddLines(conf, tmp, ifname, mac.right, addressingLines(ifname, ipam ?? {}));
  const ran = await runTapBatch(ctx, ns.right, plan.lines)();
  if (E.isLeft(ran)) {
    const line = ran.left._tag === 'CommandFailed' ? ran.left.failedLine : undefined;
    // Delete only what this batch made: the temporary name until the rename, CNI_IFNAME after it.
    const made = line === undefined ? tmp : line > plan.renameLine ? ifname : line > 1 ? tmp : undefined;
    if (made !== undefined) await runBatch(ns.right, 'ip', [['link', 'del', 'dev', made]], { force: true })();
    await releaseLease();
    if (line === plan.renameLine) return E.left(cniError(CODES.nameTaken, `cannot name the tap ${ifname} in ${ns.right.path}`, sysFailure('', ran.left).details));
    const bridgeMissing = plan.bridgeLine !== undefined && (line === plan.bridgeLine || (line === undefined && /Device does not exist/.test(sysFailure('', ran.left).details ?? '')));
    if (bridgeMissing) return E.left(cniError(CODES.linkNotFound, `cannot enslave ${ifname} to bridge ${conf.bridge ?? ''}`, sysFailure('', ran.left).details));
    return E.left(sysFailure(`creating tap ${ifname} failed${line === undefined ? '' : ` at step ${line}`}`, ran.left));
  }
  const docs = splitBatchJson(ran.right.stdout);
  const links = decodeLinks(docs[docs.length - 1]);
  const link = E.isRight(links) ? links.right[0] : undefined;
  return E.right(oneInterfaceResult(ctx, { name: ifname, sandbox: ns.right.path, link, macFallback: mac.right }, ipam));
};

/** DEL: release the lease, then delete CNI_IFNAME if it is a tun/tap; a missing netns or link is fine. */
const del = (ctx: Ctx<TapConf>): Outcome<void> => deleteOwnLink(ctx, 'tun', 'a tap');

/**
 * The tap's owner and group as numbers: ip prints names where passwd/group
 * have them, so they come from the netns's sysfs (FFI, loaded only when the
 * config asks for an owner or group).
 */
const tunIdsOf = (netns: string, ifname: string): E.Either<string, TunIds> => {
  const ns = requireNetns(netns);
  if (E.isLeft(ns)) return E.left(ns.left.msg);
  const ids = readTunIds(ns.right, [ifname]);
  if (E.isLeft(ids)) return E.left(describeSysError(ids.left));
  const found = ids.right[ifname];
  return found === undefined ? E.left(`${ifname} has no tun owner/group in sysfs (not a tun, or gone)`) : E.right(found);
};

const ownershipProblems = (conf: TapConf, ifname: string, ids: E.Either<string, TunIds> | undefined): string[] => {
  if (ids === undefined) return [];
  if (E.isLeft(ids)) return [`cannot read ${ifname}'s owner and group: ${ids.left}`];
  const { owner, group } = ids.right;
  return [
    ...(conf.owner !== undefined && owner !== conf.owner ? [`${ifname} is owned by ${owner ?? 'nobody in particular (unset)'}, the config says ${conf.owner}`] : []),
    ...(conf.group !== undefined && group !== conf.group ? [`${ifname} has group ${group ?? 'unset'}, the config says ${conf.group}`] : []),
  ];
};

const check = (ctx: Ctx<TapConf>): Outcome<void> => {
  const { conf } = ctx;
  const ifname = ctx.env.ifname ?? '';
  const ids = conf.owner === undefined && conf.group === undefined ? undefined : tunIdsOf(ctx.env.netns ?? '', ifname);
  return checkOwnLink(ctx, (l) => [
    ...(l.tun?.mode !== 'tap' ? [`${ifname} is not a tap (kind ${l.kind ?? 'none'})`] : []),
    ...((conf.multiQueue === true) !== (l.tun?.multiQueue === true)
      ? [`${ifname} multi_queue is ${String(l.tun?.multiQueue)}, the config says ${String(conf.multiQueue === true)}`]
      : []),
    ...ownershipProblems(conf, ifname, ids),
    ...(conf.bridge !== undefined && l.master !== conf.bridge ? [`${ifname} is not enslaved to ${conf.bridge}`] : []),
  ]);
};

export const tapPlugin: Plugin<TapConf> = {
  name: 'tap',
  codec: TapConf,
  add,
  del,
  check,
  status: ipamStatus,
  gc: ipamGc,
};
