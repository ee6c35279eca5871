// What the DaemonSet promises the image, read from deploy/manifests: which
// host directories each container mounts where, its command and environment,
// and how privileged it runs. The schema cannot see these; the manifest test
// checks them and the image tests run each container with exactly these
// mounts, commands and variables.
import type { Manifest } from './manifests.js';

export interface HostMount {
  readonly volume: string;
  readonly hostPath: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
  readonly propagation: string | undefined;
}

export interface AgentContainer {
  readonly name: string;
  readonly image: string;
  /** `command` (replaces the image's entrypoint); [] keeps the entrypoint. */
  readonly command: readonly string[];
  readonly privileged: boolean;
  readonly mounts: readonly HostMount[];
  /** The container's literal env. */
  readonly env: Readonly<Record<string, string>>;
  /** ConfigMaps the container takes every key of as env (envFrom). */
  readonly envFromConfigMaps: readonly string[];
  /** The readiness probe's exec command (kubelet runs it in the container). */
  readonly readinessCommand: readonly string[];
}

export interface NodeAgent {
  readonly source: string;
  readonly namespace: string;
  readonly hostNetwork: boolean;
  readonly hostPID: boolean;
  readonly containers: readonly AgentContainer[];
  readonly selectorMatchesTemplate: boolean;
  /** The container of that name; throws naming the DaemonSet when absent. */
  readonly container: (name: string) => AgentContainer;
}

type Json = Readonly<Record<string, unknown>>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): readonly Json[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strs = (v: unknown): readonly string[] => (Array.isArray(v) ? v.map(str) : []);

/** The one DaemonSet of the manifests; throws if there is not exactly one. */
export const nodeAgent = (manifests: readonly Manifest[]): NodeAgent => {
  const sets = manifests.filter((m) => m.object['kind'] === 'DaemonSet');
  const [ds] = sets;
  if (ds === undefined || sets.length !== 1) throw new Error(`expected one DaemonSet in the manifests, found ${sets.length}`);
  const spec = obj(ds.object['spec']);
  const template = obj(spec['template']);
  const pod = obj(template['spec']);
  const volumes = new Map(arr(pod['volumes']).map((v) => [str(v['name']), str(obj(v['hostPath'])['path'])]));
  const containers = arr(pod['containers']).map((c): AgentContainer => ({
    name: str(c['name']),
    image: str(c['image']),
    command: strs(c['command']),
    privileged: obj(c['securityContext'])['privileged'] === true,
    mounts: arr(c['volumeMounts']).map((m) => ({
      volume: str(m['name']),
      hostPath: volumes.get(str(m['name'])) ?? '',
      mountPath: str(m['mountPath']),
      readOnly: m['readOnly'] === true,
      propagation: typeof m['mountPropagation'] === 'string' ? m['mountPropagation'] : undefined,
    })),
    env: Object.fromEntries(arr(c['env']).map((e) => [str(e['name']), str(e['value'])])),
    envFromConfigMaps: arr(c['envFrom']).map((e) => str(obj(e['configMapRef'])['name'])).filter((n) => n !== ''),
    readinessCommand: strs(obj(obj(c['readinessProbe'])['exec'])['command']),
  }));
  const labels = obj(obj(template['metadata'])['labels']);
  const selector = obj(obj(spec['selector'])['matchLabels']);
  return {
    source: ds.source,
    namespace: str(obj(ds.object['metadata'])['namespace']) || 'default',
    hostNetwork: pod['hostNetwork'] === true,
    hostPID: pod['hostPID'] === true,
    containers,
    selectorMatchesTemplate: Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v),
    container: (name) => {
      const c = containers.find((x) => x.name === name);
      if (c === undefined) throw new Error(`${ds.source}: no container ${name} (found ${containers.map((x) => x.name).join(', ')})`);
      return c;
    },
  };
};

/** A ConfigMap's data by name (in the given namespace), undefined when the manifests have none. */
export const configMapData = (manifests: readonly Manifest[], namespace: string, name: string): Readonly<Record<string, string>> | undefined => {
  const cm = manifests.find((m) => m.object['kind'] === 'ConfigMap' && str(obj(m.object['metadata'])['name']) === name && (str(obj(m.object['metadata'])['namespace']) || 'default') === namespace);
  return cm === undefined ? undefined : (obj(cm.object['data']) as Record<string, string>);
};

/**
 * podman run flags giving a container what the DaemonSet gives it: its
 * hostPaths (through hostDir, so a test can put them in temp dirs), env,
 * privileges, read-only and propagation flags, and the command.
 */
export const podmanRunArgs = (c: AgentContainer, hostDir: (hostPath: string) => string): { readonly flags: readonly string[]; readonly command: readonly string[] } => ({
  flags: [
    ...(c.privileged ? ['--privileged'] : []),
    ...c.mounts.flatMap((m) => {
      const opts = [...(m.readOnly ? ['ro'] : []), ...(m.propagation === 'HostToContainer' ? ['rslave'] : m.propagation === 'Bidirectional' ? ['rshared'] : [])];
      return ['--volume', `${hostDir(m.hostPath)}:${m.mountPath}${opts.length === 0 ? '' : `:${opts.join(',')}`}`];
    }),
    ...Object.entries(c.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...(c.command.length === 0 ? [] : ['--entrypoint', c.command[0] ?? '']),
  ],
  command: c.command.slice(1),
});
