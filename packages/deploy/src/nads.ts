// A NetworkAttachmentDefinition checked as Multus would hand it on: read by the
// pod rig's NAD reader (as kubectl apply takes the manifest), spec.config
// parsed as libcni does (conf or conflist), a resourceName NAD given the
// deviceID Multus adds, and each plugin's stdin decoded by the codec the
// plugin itself decodes with (ours), or as a CNI network config and found in
// the reference plugin dir (the others, and every IPAM plugin named).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeConfig, macvtapPlugin, NetConf, tapPlugin, tcRedirectTapPlugin } from '../../cni/dist/index.js';
import { parseNetConf, pluginStdin, withDeviceId, type Nad } from '../../pod/dist/index.js';

export const REFERENCE_PLUGIN_DIR = '/usr/lib/cni';

/** The config a plugin's codec decodes (one per plugin of ours, by type). */
const OURS: Readonly<Record<string, (stdin: string) => readonly string[]>> = {
  tap: (s) => problemsOf(decodeConfig(s, tapPlugin.codec)),
  macvtap: (s) => problemsOf(decodeConfig(s, macvtapPlugin.codec)),
  'tc-redirect-tap': (s) => problemsOf(decodeConfig(s, tcRedirectTapPlugin.codec)),
};

type Decoded = { readonly _tag: 'Left'; readonly left: { readonly error: { readonly msg: string; readonly details?: string } } } | { readonly _tag: 'Right' };
const problemsOf = (d: Decoded): readonly string[] => (d._tag === 'Right' ? [] : [`${d.left.error.msg}${d.left.error.details === undefined ? '' : `: ${d.left.error.details}`}`]);

/** A device ID of the NAD's resource as the device plugin names them (<name>Mvp<i>). */
export const sampleDeviceId = (resourceName: string): string => `${resourceName.split('/').pop() ?? 'dev'}Mvp0`;

export interface NadCheck {
  /** The plugin types in delegation order. */
  readonly types: readonly string[];
  readonly problems: readonly string[];
}

export const checkNad = (nad: Nad, referenceDir = REFERENCE_PLUGIN_DIR): NadCheck => {
  const where = `${nad.namespace}/${nad.name} (${nad.source})`;
  if (nad.config === undefined) return { types: [], problems: [`${where}: no spec.config (the conf-file convention is node-local, not an example)`] };
  const parsed = parseNetConf(nad.config, nad.name);
  if (parsed._tag === 'Left') return { types: [], problems: parsed.left.map((p) => `${where}: spec.config: ${p}`) };
  const list = nad.resourceName === undefined ? parsed.right : withDeviceId(parsed.right, sampleDeviceId(nad.resourceName));
  const problems: string[] = [];
  const types = list.plugins.map((p, i) => {
    const type = String(p['type']);
    const stdin = JSON.stringify(pluginStdin(list, i, {}, undefined));
    const ours = OURS[type];
    if (ours !== undefined) problems.push(...ours(stdin).map((p) => `${where}: plugin ${i} (${type}): ${p}`));
    else {
      const d = NetConf.decode(JSON.parse(stdin));
      if (d._tag === 'Left') problems.push(`${where}: plugin ${i} (${type}): not a CNI network config`);
      if (!existsSync(join(referenceDir, type))) problems.push(`${where}: plugin ${i}: no ${type} in ${referenceDir} (not ours, not a reference plugin)`);
    }
    const ipam = (p['ipam'] as { type?: unknown } | undefined)?.type;
    if (typeof ipam === 'string' && !existsSync(join(referenceDir, ipam))) problems.push(`${where}: plugin ${i} (${type}): no IPAM ${ipam} in ${referenceDir}`);
    return type;
  });
  if (nad.resourceName !== undefined && !nad.resourceName.startsWith('macvtap.network.kubevirt.io/')) problems.push(`${where}: resourceName ${nad.resourceName} is not one our device plugin offers`);
  return { types, problems };
};
