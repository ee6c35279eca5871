// What the DaemonSet promises the image, read from deploy/manifests: which
// host directories it mounts where, its environment, and how privileged it
// runs. The schema cannot see these; the manifest test checks them and the
// image test runs the container with exactly these mounts and variables.
import type { Manifest } from './manifests.js';

export interface HostMount {
  readonly volume: string;
  readonly hostPath: string;
  readonly mountPath: string;
}

export interface NodeAgent {
  readonly source: string;
  readonly namespace: string;
  readonly image: string;
  readonly hostNetwork: boolean;
  readonly privileged: boolean;
  readonly mounts: readonly HostMount[];
  /** The container's literal env. */
  readonly env: Readonly<Record<string, string>>;
  /** ConfigMaps the container takes every key of as env (envFrom). */
  readonly envFromConfigMaps: readonly string[];
  readonly selectorMatchesTemplate: boolean;
  /** The readiness probe's exec command (kubelet runs it in the container). */
  readonly readinessCommand: readonly string[];
}

type Json = Readonly<Record<string, unknown>>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): readonly Json[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The one DaemonSet of the manifests and its single container; throws if there is not exactly one of each. */
export const nodeAgent = (manifests: readonly Manifest[]): NodeAgent => {
  const sets = manifests.filter((m) => m.object['kind'] === 'DaemonSet');
  const [ds] = sets;
  if (ds === undefined || sets.length !== 1) throw new Error(`expected one DaemonSet in the manifests, found ${sets.length}`);
  const spec = obj(ds.object['spec']);
  const template = obj(spec['template']);
  const pod = obj(template['spec']);
  const containers = arr(pod['containers']);
  const [c] = containers;
  if (c === undefined || containers.length !== 1) throw new Error(`${ds.source}: expected one container, found ${containers.length}`);
  const volumes = new Map(arr(pod['volumes']).map((v) => [str(v['name']), str(obj(v['hostPath'])['path'])]));
  const mounts = arr(c['volumeMounts']).map((m) => ({ volume: str(m['name']), hostPath: volumes.get(str(m['name'])) ?? '', mountPath: str(m['mountPath']) }));
  const labels = obj(obj(template['metadata'])['labels']);
  const selector = obj(obj(spec['selector'])['matchLabels']);
  return {
    source: ds.source,
    namespace: str(obj(ds.object['metadata'])['namespace']) || 'default',
    image: str(c['image']),
    hostNetwork: pod['hostNetwork'] === true,
    privileged: obj(c['securityContext'])['privileged'] === true,
    mounts,
    env: Object.fromEntries(arr(c['env']).map((e) => [str(e['name']), str(e['value'])])),
    envFromConfigMaps: arr(c['envFrom']).map((e) => str(obj(e['configMapRef'])['name'])).filter((n) => n !== ''),
    selectorMatchesTemplate: Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v),
    readinessCommand: (() => {
      const command = obj(obj(c['readinessProbe'])['exec'])['command'];
      return Array.isArray(command) ? command.map(str) : [];
    })(),
  };
};

/** A ConfigMap's data by name (in the given namespace), undefined when the manifests have none. */
export const configMapData = (manifests: readonly Manifest[], namespace: string, name: string): Readonly<Record<string, string>> | undefined => {
  const cm = manifests.find((m) => m.object['kind'] === 'ConfigMap' && str(obj(m.object['metadata'])['name']) === name && (str(obj(m.object['metadata'])['namespace']) || 'default') === namespace);
  return cm === undefined ? undefined : (obj(cm.object['data']) as Record<string, string>);
};
