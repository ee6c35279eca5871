// Test support (not exported from the package): a throwaway "node" netns in
// which every plugin runs (bridges, veth host ends, the device plugin's lower
// device live there, never in the host netns), a temp dir holding the NAD
// manifests, conf dir, state root, host-local's data dir and our bundled
// CNI plugins; all of it removed by t.teardown, also when a test fails.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa } from 'execa';
import { installPlugins } from '@tapwire/cni';
import { makeNetns, sh, uniqueName } from '@tapwire/testkit';
import type { UpOptions } from '../up.js';

export interface PodRig {
  readonly node: { readonly name: string; readonly path: string };
  readonly dir: string;
  readonly nadDir: string;
  readonly confDir: string;
  readonly stateRoot: string;
  /** host-local's dataDir: leases are files named by address. */
  readonly ipamDir: string;
  readonly cniPath: readonly string[];
  /** A fresh pod name whose netns is deleted on teardown. */
  readonly podName: () => string;
  readonly writeNads: (file: string, yaml: string) => void;
  readonly writeConf: (file: string, conf: object) => string;
  readonly hostLocal: (subnet: string, gateway?: string) => object;
  readonly leases: () => string[];
}

let bundled: Promise<string> | undefined;
/** Our plugins bundled once per test process into a temp dir (removed at exit). */
const ourPlugins = (): Promise<string> => {
  bundled ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twpod-bin-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    await installPlugins(dir);
    return dir;
  })();
  return bundled;
};

export const podRig = async (t: ExecutionContext): Promise<PodRig> => {
  const dir = mkdtempSync(join(tmpdir(), 'twpod-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const node = await makeNetns(t, 'twnode');
  const [nadDir, confDir, stateRoot, ipamDir] = ['nads', 'conf', 'pods', 'ipam'].map((d) => join(dir, d)) as [string, string, string, string];
  for (const d of [nadDir, confDir, ipamDir]) mkdirSync(d);
  const bin = await ourPlugins();
  return {
    node,
    dir,
    nadDir,
    confDir,
    stateRoot,
    ipamDir,
    cniPath: [bin, '/usr/lib/cni'],
    podName: () => {
      const name = uniqueName('twpod');
      // Registered before the netns exists: whatever the test does, it goes.
      t.teardown(async () => void (await execa('ip', ['netns', 'del', name], { reject: false })));
      return name;
    },
    writeNads: (file, yaml) => writeFileSync(join(nadDir, file), yaml),
    writeConf: (file, conf) => {
      const path = join(confDir, file);
      writeFileSync(path, JSON.stringify(conf));
      return path;
    },
    hostLocal: (subnet, gateway) => ({ type: 'host-local', dataDir: ipamDir, ranges: [[{ subnet, ...(gateway === undefined ? {} : { gateway }) }]] }),
    leases: () => readdirSync(ipamDir, { recursive: true, encoding: 'utf8' }).filter((f) => /\d+\.\d+\.\d+\.\d+$|:/.test(f.split('/').pop() ?? '')),
  };
};

export interface IpLink {
  readonly ifname: string;
  readonly address?: string;
  readonly link_type?: string;
  readonly linkinfo?: { readonly info_kind?: string; readonly info_data?: Record<string, unknown> };
  readonly addr_info?: readonly { readonly family: string; readonly local: string; readonly prefixlen: number }[];
}

export const linksIn = async (ns: string): Promise<readonly IpLink[]> => JSON.parse(await sh(['ip', '-n', ns, '-j', '-d', 'addr', 'show'])) as IpLink[];
export const netnsExists = async (name: string): Promise<boolean> => (await sh(['ip', 'netns', 'list'])).split('\n').some((l) => l.split(' ')[0] === name);

/** macvtap-cni README, "Usage": its dataplane NAD, verbatim. */
export const DATAPLANE_NAD = `kind: NetworkAttachmentDefinition
apiVersion: k8s.cni.cncf.io/v1
metadata:
  name: dataplane
  annotations:
    k8s.v1.cni.cncf.io/resourceName: macvtap.network.kubevirt.io/dataplane
spec:
  config: '{
      "cniVersion": "0.3.1",
      "name": "dataplane",
      "type": "macvtap",
      "mtu": 1500
    }'
`;

/** podUp's options for a pod on the rig (namespace default), plus whatever a test adds. */
export const rigUpOptions = (rig: PodRig, name: string, networks: string, extra: Partial<UpOptions> = {}): UpOptions => ({
  name,
  namespace: 'default',
  nadDir: rig.nadDir,
  networks,
  confDir: rig.confDir,
  cniPath: rig.cniPath,
  stateRoot: rig.stateRoot,
  nodeNetns: rig.node.path,
  ...extra,
});
