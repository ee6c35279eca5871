// A throwaway pod netns with N veth endpoints (addresses, up), their peers in
// a second netns, all made in one `ip -batch`. Deleting the two netns removes
// every link, tap, qdisc and filter in them, so that is the whole cleanup.
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { describeSysError, resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { track } from './cleanup.js';

export interface Pod {
  /** Name under /var/run/netns (what `ip -n` takes). */
  readonly name: string;
  readonly peer: string;
  readonly ns: NetnsHandle;
  readonly links: readonly string[];
  /** Set with withGateway: the peer address the pod's default route goes through. */
  readonly gateway: string | undefined;
  readonly dispose: () => Promise<void>;
}

export interface PodOptions {
  /** Give the first link's peer an address, bring it up and route the pod's default via it. */
  readonly withGateway?: boolean;
}

/** 10.100.0.2/24, 10.100.1.2/24, ...: one subnet per link, distinct up to 256 * 156 links. */
export const podAddress = (i: number): string => `10.${100 + (i >> 8)}.${i & 255}.2/24`;
const gatewayOf = (i: number): string => `10.${100 + (i >> 8)}.${i & 255}.1`;

const ip = async (args: readonly string[], input?: string): Promise<void> => {
  const r = await execa('ip', args, { reject: false, ...(input === undefined ? {} : { input }) });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr}`);
};

export const podBatch = (links: number, peer: string, withGateway: boolean): string =>
  [
    'link set lo up',
    ...Array.from({ length: links }, (_, i) => [`link add eth${i} type veth peer name p${i} netns ${peer}`, `addr add ${podAddress(i)} dev eth${i}`, `link set eth${i} up`]).flat(),
    ...(withGateway ? [`route add default via ${gatewayOf(0)} dev eth0`] : []),
  ].join('\n') + '\n';

/** Pod and peer netns names makePod gave in this process, in order. */
const made: string[] = [];

/**
 * Every netns name this process's makePod calls gave (made or about to be):
 * what a test checks is gone afterwards. Other processes (a bench run in a
 * subprocess, another test file) make twb netns of their own at the same time.
 */
export const podNetnsMade = (): readonly string[] => [...made];

export const makePod = async (links: number, opts: PodOptions = {}): Promise<Pod> => {
  if (!Number.isInteger(links) || links < 1 || links > 4096) throw new Error(`makePod: links ${links}: expected an integer 1..4096`);
  const tag = randomBytes(3).toString('hex');
  const name = `twb${tag}`;
  const peer = `twb${tag}p`;
  const withGateway = opts.withGateway === true;
  made.push(name, peer);
  // Registered before they exist: `ip netns del` of a netns never made fails harmlessly.
  const dispose = track(`netns ${name} and ${peer}`, async () => {
    await execa('ip', ['netns', 'del', name], { reject: false });
    await execa('ip', ['netns', 'del', peer], { reject: false });
  });
  try {
    await ip(['netns', 'add', name]);
    await ip(['netns', 'add', peer]);
    await ip(['-n', name, '-batch', '-'], podBatch(links, peer, withGateway));
    if (withGateway) await ip(['-n', peer, '-batch', '-'], `link set lo up\naddr add ${gatewayOf(0)}/24 dev p0\nlink set p0 up\n`);
    const ns = resolveNetns(name);
    if (E.isLeft(ns)) throw new Error(describeSysError(ns.left));
    return {
      name,
      peer,
      ns: ns.right,
      links: Array.from({ length: links }, (_, i) => `eth${i}`),
      gateway: withGateway ? gatewayOf(0) : undefined,
      dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
};
