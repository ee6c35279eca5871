// Test support for tests that boot the guest on a pod netns (here and in the
// packages above: libvirt, cli): the prerequisite gate, the guest image built
// once per test process, and a pod netns wired by veths to peer netns. Every
// netns is made with testkit's makeNetns, so it goes on teardown. Exported as
// @tapwire/qemu/testing, which the published package leaves out.
import { readlinkSync, statSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { buildGuestImage, type GuestImage } from '../guest/index.js';

export const QEMU = 'qemu-system-x86_64';

/** Root, QEMU, and any other command the test needs (each skips locally, fails under CI=true). */
export const requireGuestBoot = (t: ExecutionContext, ...commands: readonly string[]): boolean =>
  requireRoot(t) && requireCommand(t, QEMU) && commands.every((c) => requireCommand(t, c));

let image: GuestImage | undefined;
/** The guest image, built on first use and kept for the test process; a build failure throws. */
export const guestImage = async (): Promise<GuestImage> => {
  if (image !== undefined) return image;
  const r = await buildGuestImage()();
  if (E.isLeft(r)) throw new Error(`guest image: ${JSON.stringify(r.left)}`);
  image = r.right;
  return image;
};

/** The handle of a netns the test made; one it cannot resolve throws. */
export const netnsHandle = (name: string): NetnsHandle => {
  const h = resolveNetns(name);
  if (E.isLeft(h)) throw new Error(JSON.stringify(h.left));
  return h.right;
};

/**
 * Waits (up to 5 s) until the link's IPv6 link-local address is no longer
 * tentative: autoconfiguration adds it and its fe80::/64 route a moment
 * after carrier, so a snapshot taken earlier differs from a later one for
 * reasons of its own.
 */
export const linkLocalSettled = async (netns: string, link: string): Promise<void> => {
  for (let i = 0; i < 100; i++) {
    const out = await sh(['ip', '-n', netns, '-6', 'addr', 'show', 'dev', link, 'scope', 'link']);
    if (out.includes('fe80') && !out.includes('tentative')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
};

export interface VethPodOptions {
  /** makeNetns prefixes of the pod netns and of its peers. */
  readonly prefixes: readonly [pod: string, peer: string];
  /** One /24 per link, as its first three octets: eth<i> gets .2, its peer's p0 .1. */
  readonly nets: readonly string[];
  /** A default route via eth0's peer. */
  readonly defaultRoute: boolean;
}

export interface VethPod {
  readonly name: string;
  readonly path: string;
  readonly handle: NetnsHandle;
  /** Per link, in order: the peer netns and its address. */
  readonly peers: readonly { readonly netns: string; readonly addr: string }[];
}

/** A pod netns with eth0, eth1, ... (veths) each to a peer netns, every link's IPv6 link-local settled. */
export const vethPod = async (t: ExecutionContext, o: VethPodOptions): Promise<VethPod> => {
  const pod = await makeNetns(t, o.prefixes[0]);
  const peers: { netns: string; addr: string }[] = [];
  for (const [i, net] of o.nets.entries()) {
    const peer = await makeNetns(t, o.prefixes[1]);
    const addr = `${net}.1`;
    await sh(['ip', '-n', pod.name, '-batch', '-'], [
      `link add eth${i} type veth peer name p0 netns ${peer.name}`,
      `addr add ${net}.2/24 dev eth${i}`,
      `link set eth${i} up`,
      ...(o.defaultRoute && i === 0 ? [`route add default via ${addr} dev eth0`] : []),
    ].join('\n') + '\n');
    await sh(['ip', '-n', peer.name, '-batch', '-'], `addr add ${addr}/24 dev p0\nlink set p0 up\n`);
    peers.push({ netns: peer.name, addr });
  }
  for (const i of o.nets.keys()) await linkLocalSettled(pod.name, `eth${i}`);
  return { ...pod, handle: netnsHandle(pod.name), peers };
};

/**
 * QEMU processes in the netns at `nsPath` (QEMU's argv does not name it); with
 * graceMs, polls that long for one that is quitting to be gone.
 */
export const qemuPidsIn = async (nsPath: string, graceMs = 0): Promise<string[]> => {
  const inode = statSync(nsPath).ino;
  const deadline = Date.now() + graceMs;
  for (;;) {
    const pids = (await execa('pgrep', ['-f', QEMU], { reject: false })).stdout.split('\n').filter(Boolean);
    const found = pids.filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/net`) === `net:[${inode}]`;
      } catch {
        return false;
      }
    });
    if (found.length === 0 || Date.now() >= deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
};
