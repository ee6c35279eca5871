// Test support: the image built as deploy/README.md says (context by
// deploy/build.mjs, `podman build --build-arg BASE=...`), from a local base
// in a private Podman; and a node for it to run on (a throwaway netns with a
// veth `lowr` as the lower device, the DaemonSet's hostPaths as temp dirs).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { makeNetns, sh, uniqueName } from '@tapwire/testkit';
import { addVeth } from '../../../device-plugin/dist/testing/rig.js';
import { nodeAgent, type NodeAgent } from '../daemonset.js';
import { readManifests } from '../manifests.js';
import { DEPLOY_DIR, MANIFEST_DIR } from '../paths.js';
import { BUSYBOX, filesEndingWith, importBase, privatePodman, type PrivatePodman } from './podman.js';

/** The base's programs, at their paths here (Debian 12's; node wherever this one runs from). */
export const BASE_EXECUTABLES = [process.execPath, '/usr/sbin/ip', '/usr/sbin/tc', '/usr/bin/nsenter'];
export const IMAGE_COMMANDS = ['podman', 'runc', 'ldd', 'tar', 'nsenter', 'ip', BUSYBOX, ...BASE_EXECUTABLES];

export interface Built {
  readonly tmp: string;
  readonly context: string;
  readonly podman: PrivatePodman;
  readonly base: string;
  readonly image: string;
  readonly agent: NodeAgent;
}

const timed = async <A>(t: ExecutionContext, what: string, f: () => Promise<A>): Promise<A> => {
  const start = Date.now();
  const a = await f();
  t.log(`${what} in ${Date.now() - start} ms`);
  return a;
};

/** A temp dir (removed on teardown) holding the context and a private Podman with the base imported. */
export const baseOnly = async (t: ExecutionContext): Promise<Omit<Built, 'image'>> => {
  const tmp = mkdtempSync(join(tmpdir(), 'tapwire-deploy-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const context = join(tmp, 'context');
  await timed(t, 'staged the context', () => sh([process.execPath, join(DEPLOY_DIR, 'build.mjs'), context]));
  const podman = privatePodman(t, join(tmp, 'podman'));
  const base = `localhost/tapwire-deploy-base:${uniqueName('t')}`;
  await timed(t, 'imported the base', () => importBase(podman, base, BASE_EXECUTABLES, filesEndingWith(join(context, 'rootfs'), '.node')));
  return { tmp, context, podman, base, agent: nodeAgent(readManifests(MANIFEST_DIR)) };
};

export const buildImage = async (t: ExecutionContext): Promise<Built> => {
  const b = await baseOnly(t);
  const image = `localhost/tapwire-node:${uniqueName('t')}`;
  await timed(t, 'built the image', () => b.podman.podman(['build', '--pull=never', '--network', 'none', '--build-arg', `BASE=${b.base}`, '--tag', image, b.context]));
  return { ...b, image };
};

export interface Node {
  readonly ns: { readonly name: string; readonly path: string };
  /** Where a DaemonSet hostPath is on this node. */
  readonly hostDir: (hostPath: string) => string;
}

/**
 * The node: its netns (deleted on teardown) and its hostPaths under tmp/host,
 * except the netns dir, which is the real one (the pod netns a test makes are there).
 */
export const makeNode = async (t: ExecutionContext, b: Omit<Built, 'image'>): Promise<Node> => {
  const ns = await makeNetns(t, 'twdep');
  await addVeth(ns.name);
  const hostDir = (hostPath: string): string => (hostPath === '/run/netns' ? '/run/netns' : join(b.tmp, 'host', hostPath));
  for (const c of b.agent.containers) for (const m of c.mounts) mkdirSync(hostDir(m.hostPath), { recursive: true });
  return { ns, hostDir };
};
