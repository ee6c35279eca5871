// Every failure of the pod rig is one of these tagged values; the CLI prints
// describePodError. Inputs are named (file and document, annotation text).
import { describeDevicePluginError, type DevicePluginError } from '@tapwire/device-plugin';
import { describeSysError, type SysError } from '@tapwire/sys';

export type PodError =
  | { readonly _tag: 'BadAnnotation'; readonly input: string; readonly problems: readonly string[] }
  /** A manifest file (document n, 1-based) is not what kubectl apply would take. */
  | { readonly _tag: 'BadManifest'; readonly file: string; readonly document: number; readonly problems: readonly string[] }
  | { readonly _tag: 'NadNotFound'; readonly network: string; readonly known: readonly string[] }
  /** A NAD's CNI config (spec.config, a conf-dir file or --default) is not a usable config. */
  | { readonly _tag: 'BadNetConf'; readonly network: string; readonly source: string; readonly problems: readonly string[] }
  | { readonly _tag: 'ConfFileNotFound'; readonly network: string; readonly confDir: string }
  | { readonly _tag: 'BadIfname'; readonly network: string; readonly ifname: string; readonly problem: string }
  | { readonly _tag: 'PluginNotFound'; readonly network: string; readonly type: string; readonly cniPath: readonly string[] }
  | {
      readonly _tag: 'PluginFailed';
      readonly network: string;
      readonly type: string;
      readonly command: 'ADD' | 'DEL';
      readonly code: number | undefined;
      readonly msg: string;
      readonly details: string | undefined;
    }
  | { readonly _tag: 'BadResult'; readonly network: string; readonly type: string; readonly problems: readonly string[] }
  | { readonly _tag: 'NoDevice'; readonly network: string; readonly resourceName: string; readonly problem: string }
  | { readonly _tag: 'DevicePlugin'; readonly what: string; readonly cause: DevicePluginError }
  | { readonly _tag: 'PodExists'; readonly name: string; readonly where: string }
  | { readonly _tag: 'PodNotFound'; readonly name: string; readonly stateDir: string }
  | { readonly _tag: 'BadState'; readonly file: string; readonly problems: readonly string[] }
  | { readonly _tag: 'BadPodName'; readonly name: string; readonly expected: string }
  | { readonly _tag: 'Sys'; readonly what: string; readonly cause: SysError }
  | { readonly _tag: 'Io'; readonly what: string; readonly path: string; readonly detail: string }
  /** ADD of a network failed; what undoing the earlier ones said, if anything failed there too. */
  | { readonly _tag: 'UpFailed'; readonly cause: PodError; readonly undo: readonly PodError[] }
  /** DEL went on past failures (as Multus and kubelet do); all of them. */
  | { readonly _tag: 'DownIncomplete'; readonly failures: readonly PodError[] }
  /** The caller's AbortSignal fired: what was stopped, and the signal's reason. */
  | { readonly _tag: 'Aborted'; readonly what: string; readonly reason: string };

export const describePodError = (e: PodError): string => {
  switch (e._tag) {
    case 'BadAnnotation':
      return `bad k8s.v1.cni.cncf.io/networks annotation ${JSON.stringify(e.input)}: ${e.problems.join('; ')}`;
    case 'BadManifest':
      return `${e.file}, document ${e.document}: ${e.problems.join('; ')}`;
    case 'NadNotFound':
      return `no NetworkAttachmentDefinition ${e.network} (known: ${e.known.join(', ') || 'none'})`;
    case 'BadNetConf':
      return `network ${e.network}: bad CNI config in ${e.source}: ${e.problems.join('; ')}`;
    case 'ConfFileNotFound':
      return `network ${e.network}: the NAD has no spec.config and no CNI config in ${e.confDir} has that name`;
    case 'BadIfname':
      return `network ${e.network}: interface ${JSON.stringify(e.ifname)} ${e.problem}`;
    case 'PluginNotFound':
      return `network ${e.network}: no CNI plugin ${JSON.stringify(e.type)} in ${e.cniPath.join(':') || '(empty CNI_PATH)'}`;
    case 'PluginFailed':
      return `network ${e.network}: ${e.type} ${e.command} failed${e.code === undefined ? '' : ` (code ${e.code})`}: ${e.msg}${e.details ? ` (${e.details})` : ''}`;
    case 'BadResult':
      return `network ${e.network}: ${e.type} returned an unusable result: ${e.problems.join('; ')}`;
    case 'NoDevice':
      return `network ${e.network}: no device of ${e.resourceName}: ${e.problem}`;
    case 'DevicePlugin':
      return `${e.what}: ${describeDevicePluginError(e.cause)}`;
    case 'PodExists':
      return `pod ${e.name} exists already (${e.where}); tapwire pod down ${e.name} first`;
    case 'PodNotFound':
      return `no pod ${e.name} in ${e.stateDir}`;
    case 'BadState':
      return `cannot read pod state ${e.file}: ${e.problems.join('; ')}`;
    case 'BadPodName':
      return `bad pod name ${JSON.stringify(e.name)}: expected ${e.expected}`;
    case 'Sys':
      return `${e.what}: ${describeSysError(e.cause)}`;
    case 'Io':
      return `${e.what} (${e.path}): ${e.detail}`;
    case 'UpFailed':
      return `${describePodError(e.cause)}${e.undo.length === 0 ? '; the networks made before were removed' : `; undoing the earlier networks also failed: ${e.undo.map(describePodError).join('; ')}`}`;
    case 'Aborted':
      return `${e.what} was aborted: ${e.reason}`;
    case 'DownIncomplete':
      return e.failures.map(describePodError).join('; ');
  }
};

/** io-ts problems as short "at path: expected X, found Y" lines (intersection members are no path step). */
export const problemsOf = (
  errors: readonly { readonly context: readonly { readonly key: string; readonly type: { readonly name: string; readonly _tag?: string } }[]; readonly value: unknown }[],
): string[] =>
  errors.map((e) => {
    const path = e.context
      .filter((c, i) => c.key !== '' && (e.context[i - 1]?.type as { _tag?: string } | undefined)?._tag !== 'IntersectionType')
      .map((c) => c.key)
      .join('.');
    const expected = e.context[e.context.length - 1]?.type.name ?? 'something else';
    return `${path === '' ? 'the value' : path}: expected ${expected}, found ${JSON.stringify(e.value) ?? 'nothing'}`;
  });
