// Test support: a throwaway netns playing the host (a veth `lowr` as the
// lower device), a temp plugin directory, the kubelet stand-in and the
// plugin running against both; all of it torn down by ava, also on failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { makeNetns, sh } from '@tapwire/testkit';
import { describeDevicePluginError } from '../errors.js';
import { startDevicePlugin } from '../main.js';
import type { RunningPlugin } from '../plugin.js';
import { startKubelet, type KubeletStandIn } from './kubelet.js';

export const RESOURCE = 'macvtap.network.kubevirt.io/dp';

export interface Rig {
  readonly ns: { readonly name: string; readonly path: string };
  readonly dir: string;
  readonly kubelet: KubeletStandIn;
  readonly plugin: RunningPlugin;
}

export interface IpLink {
  readonly ifname: string;
  readonly ifindex: number;
  readonly link?: string;
  readonly linkinfo?: { readonly info_kind?: string };
}

export const links = async (ns: string): Promise<readonly IpLink[]> => JSON.parse(await sh(['ip', '-n', ns, '-j', '-d', 'link', 'show'])) as IpLink[];
export const macvtaps = async (ns: string): Promise<readonly IpLink[]> => (await links(ns)).filter((l) => l.linkinfo?.info_kind === 'macvtap');

export const addVeth = async (ns: string): Promise<void> => {
  await sh(['ip', '-n', ns, 'link', 'add', 'lowr', 'type', 'veth', 'peer', 'name', 'peer']);
  await sh(['ip', '-n', ns, 'link', 'set', 'lowr', 'up']);
  await sh(['ip', '-n', ns, 'link', 'set', 'peer', 'up']);
};

export const tempDir = (t: ExecutionContext): string => {
  const dir = mkdtempSync(join(tmpdir(), 'twdp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** The plugin's resources: one, `dp` on lowr, by default. */
export type RigConfig = readonly Record<string, unknown>[];

export const rig = async (t: ExecutionContext, capacity = 4, config: RigConfig = [{ name: 'dp', lowerDevice: 'lowr', capacity }]): Promise<Rig> => {
  const ns = await makeNetns(t, 'twdp');
  await addVeth(ns.name);
  const dir = tempDir(t);
  const kubelet = await startKubelet(dir);
  t.teardown(() => kubelet.close());
  const started = await startDevicePlugin({
    dir,
    netns: ns.path,
    config: JSON.stringify(config),
    pollMs: 100,
    log: (l) => t.log(l),
  })();
  if (E.isLeft(started)) throw new Error(describeDevicePluginError(started.left));
  // Registered last, so it runs first: the plugin stops before the netns goes.
  t.teardown(() => started.right.stop());
  return { ns, dir, kubelet, plugin: started.right };
};
