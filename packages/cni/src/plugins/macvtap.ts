// The `macvtap` plugin (as kubevirt's macvtap-cni): moves an existing macvtap
// from the host netns into the pod (deviceID, which the device plugin hands to
// Multus), or creates one on lowerDevice when no deviceID is given; renames it
// to CNI_IFNAME in the same netlink request that moves it, then applies MTU,
// MAC, promiscuity and brings it up (plus IPAM addresses when configured).
//
// The macvtap's character device is /dev/tapN in the host (N = its ifindex,
// made by udev): owner/group are applied to that node after the move when it
// exists; without udev (no node) it is a logged no-op. Known limit: udev
// remakes the node (root, 0600) on the move's uevents and can win the race,
// so on a udev host the ownership is not reliable (a udev rule or the
// runtime's device mount is). A process in the pod opens the queues through
// its own /dev (see @tapwire/sys openMacvtapQueues).
//
// DEL deletes CNI_IFNAME when it is a macvtap, for a created one and a
// deviceID one alike: kubevirt's plugin deletes the link in the pod netns
// and its device plugin makes new ones (recalled from its source, not checked
// here: the reference repository was not reachable).
import { chownSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeLinks, type Link } from '@tapwire/endpoints';
import { encodeBatchLine, run, runBatch, splitBatchJson } from '@tapwire/sys';
import { hasIpam, ipamAdd, ipamDel, ipamGc, ipamStatus } from '../ipam.js';
import { requireNetns } from '../netns.js';
import type { Ctx, Outcome, Plugin } from '../skel.js';
import { Mtu, NonNegativeInt, stringWhere, UnicastMac } from '../spec/codecs.js';
import { NetConf } from '../spec/config.js';
import { validateIfname } from '../spec/env.js';
import { CODES, cniError, type CniError } from '../spec/errors.js';
import type { Result } from '../spec/result.js';
import { addressingLines, checkOwnLink, deleteOwnLink, oneInterfaceResult, pickMac, sysFailure, type Argv } from './common.js';

const LinkName = stringWhere("a link name (1-15 bytes, no '/', ':' or whitespace)", (s) => validateIfname(s) === undefined);
export const MACVTAP_MODES = ['bridge', 'vepa', 'private', 'passthru'] as const;
const Mode = t.keyof({ bridge: null, vepa: null, private: null, passthru: null }, 'a macvtap mode (bridge, vepa, private, passthru)');

export const MacvtapConf = t.intersection([
  NetConf,
  t.partial({
    deviceID: LinkName,
    lowerDevice: LinkName,
    mode: Mode,
    mtu: Mtu,
    mac: UnicastMac,
    promiscMode: t.boolean,
    owner: NonNegativeInt,
    group: NonNegativeInt,
    runtimeConfig: t.partial({ mac: UnicastMac }),
  }),
], 'macvtap config');
export type MacvtapConf = t.TypeOf<typeof MacvtapConf>;

/** One link of the host netns (where the plugin runs). */
const hostLink = async (name: string): Promise<E.Either<CniError, Link | undefined>> => {
  const r = await run(['ip', '-j', '-d', 'link', 'show', 'dev', name])();
  if (E.isLeft(r)) return r.left._tag === 'CommandFailed' && /does not exist/.test(r.left.stderr) ? E.right(undefined) : E.left(sysFailure(`cannot read host link ${name}`, r.left));
  const ls = decodeLinks(r.right.stdout);
  return E.isLeft(ls) ? E.left(cniError(CODES.internal, `cannot decode ip's output for ${name}`, ls.left.problems.join('; '))) : E.right(ls.right[0]);
};

/** ip -batch in the host netns (runBatch needs a handle; the plugin already runs in the host netns). */
const hostBatch = (lines: readonly Argv[]) => {
  const encoded = E.sequenceArray(lines.map(encodeBatchLine));
  if (E.isLeft(encoded)) throw new Error(`cannot write ${JSON.stringify(encoded.left)} in an ip -batch line`);
  return run(['ip', '-batch', '-'], { input: `${encoded.right.join('\n')}\n` });
};

/** Owner/group of /dev/tap<ifindex> when udev made it; said on stderr when not. */
const chownCharDevice = (ctx: Ctx<MacvtapConf>, ifindex: number): E.Either<CniError, void> => {
  const { owner, group } = ctx.conf;
  if (owner === undefined && group === undefined) return E.right(undefined);
  const node = `/dev/tap${ifindex}`;
  if (!existsSync(node)) {
    ctx.log(`${node} does not exist (no udev?): owner/group not applied`);
    return E.right(undefined);
  }
  try {
    chownSync(node, owner ?? -1, group ?? -1);
    return E.right(undefined);
  } catch (e) {
    return E.left(cniError(CODES.netnsCommand, `cannot chown ${node}`, (e as Error).message));
  }
};

const add = async (ctx: Ctx<MacvtapConf>): Outcome<Omit<Result, 'cniVersion'>> => {
  const { env, conf } = ctx;
  const ifname = env.ifname ?? '';
  if (conf.deviceID === undefined && conf.lowerDevice === undefined) {
    return E.left(cniError(CODES.invalidConfig, 'macvtap needs deviceID (an existing macvtap in the host) or lowerDevice (to create one)'));
  }
  const ns = requireNetns(env.netns ?? '');
  if (E.isLeft(ns)) return ns;
  const mac = pickMac(env, conf.runtimeConfig?.mac, conf.mac);
  if (E.isLeft(mac)) return mac;
  let device: string;
  if (conf.deviceID !== undefined) {
    const l = await hostLink(conf.deviceID);
    if (E.isLeft(l)) return l;
    if (l.right === undefined) return E.left(cniError(CODES.linkNotFound, `deviceID ${conf.deviceID} is not a link of the host netns`));
    if (l.right.kind !== 'macvtap') return E.left(cniError(CODES.invalidConfig, `deviceID ${conf.deviceID} is a ${l.right.kind ?? 'device'}, not a macvtap`));
    device = conf.deviceID;
  } else {
    device = `twm${randomBytes(4).toString('hex')}`;
    const made = await hostBatch([['link', 'add', 'link', conf.lowerDevice ?? '', 'name', device, 'type', 'macvtap', 'mode', conf.mode ?? 'bridge']])();
    if (E.isLeft(made)) {
      const missing = /does not exist|Cannot find device/.test(made.left._tag === 'CommandFailed' ? made.left.stderr : '');
      return E.left(missing ? cniError(CODES.linkNotFound, `lowerDevice ${conf.lowerDevice ?? ''} is not a link of the host netns`) : sysFailure(`creating a macvtap on ${conf.lowerDevice ?? ''} failed`, made.left));
    }
  }
  const created = conf.deviceID === undefined;
  const undoHost = async (): Promise<void> => {
    if (created) await hostBatch([['link', 'del', 'dev', device]])();
  };
  let ipam: Result | undefined;
  if (hasIpam(conf)) {
    const r = await ipamAdd(ctx);
    if (E.isLeft(r)) {
      await undoHost();
      return r;
    }
    ipam = r.right;
  }
  const releaseLease = async (): Promise<void> => {
    if (ipam !== undefined) await ipamDel(ctx);
  };
  // Down, then moved and renamed in one request (the kernel takes IFLA_IFNAME as the name in the new netns).
  const moved = await hostBatch([['link', 'set', 'dev', device, 'down'], ['link', 'set', 'dev', device, 'netns', ns.right.path, 'name', ifname]])();
  if (E.isLeft(moved)) {
    await undoHost();
    await releaseLease();
    const taken = moved.left._tag === 'CommandFailed' && /File exists/.test(moved.left.stderr);
    return E.left(taken ? cniError(CODES.nameTaken, `${ifname} already exists in ${ns.right.path}`) : sysFailure(`moving ${device} into ${ns.right.path} failed`, moved.left));
  }
  const lines: Argv[] = [
    ...(conf.mtu === undefined ? [] : [['link', 'set', 'dev', ifname, 'mtu', String(conf.mtu)]]),
    ...(mac.right === undefined ? [] : [['link', 'set', 'dev', ifname, 'address', mac.right]]),
    ...(conf.promiscMode === true ? [['link', 'set', 'dev', ifname, 'promisc', 'on']] : []),
    ['link', 'set', 'dev', ifname, 'up'],
    ...addressingLines(ifname, ipam ?? {}),
    ['link', 'show', 'dev', ifname],
  ];
  const ran = await runBatch(ns.right, 'ip', lines, { json: true })();
  if (E.isLeft(ran)) {
    // Put a deviceID macvtap back where the device plugin left it; delete a created one.
    const back: Argv[] = created ? [['link', 'del', 'dev', ifname]] : [['link', 'set', 'dev', ifname, 'down'], ['link', 'set', 'dev', ifname, 'netns', `/proc/${process.pid}/ns/net`, 'name', device]];
    await runBatch(ns.right, 'ip', back, { force: true })();
    await releaseLease();
    return E.left(sysFailure(`configuring ${ifname} failed`, ran.left));
  }
  const docs = splitBatchJson(ran.right.stdout);
  const ls = decodeLinks(docs[docs.length - 1]);
  const link = E.isRight(ls) ? ls.right[0] : undefined;
  // After the move: the kernel re-registers the char device in the pod netns
  // and udev remakes the host's /dev/tap<ifindex> (root, 0600).
  if (link !== undefined) {
    const owned = chownCharDevice(ctx, link.ifindex);
    if (E.isLeft(owned)) ctx.log(owned.left.msg);
  }
  return E.right(oneInterfaceResult(ctx, { name: ifname, sandbox: ns.right.path, link, macFallback: mac.right }, ipam));
};

const del = (ctx: Ctx<MacvtapConf>): Outcome<void> => deleteOwnLink(ctx, 'macvtap', 'a macvtap');

const check = (ctx: Ctx<MacvtapConf>): Outcome<void> => {
  const ifname = ctx.env.ifname ?? '';
  return checkOwnLink(ctx, (l) => [
    ...(l.kind !== 'macvtap' ? [`${ifname} is not a macvtap (kind ${l.kind ?? 'none'})`] : []),
    ...(ctx.conf.promiscMode === true && !l.flags.includes('PROMISC') ? [`${ifname} is not promiscuous`] : []),
  ]);
};

export const macvtapPlugin: Plugin<MacvtapConf> = {
  name: 'macvtap',
  codec: MacvtapConf,
  add,
  del,
  check,
  status: ipamStatus,
  gc: ipamGc,
};
