// `tapwire pod up|status|down`: the NAD-driven pod rig of @tapwire/pod as a
// verb. up prints the pod's netns (what `tapwire launch` takes) and the
// network-status Multus would write; status reads it back; down undoes all.
import * as E from 'fp-ts/lib/Either.js';
import { DEFAULT_CONF_DIR, DEFAULT_STATE_ROOT, describePodError, podDown, podUp, readState, readStatus, type NetworkStatus, type PodError } from '@tapwire/pod';
import { usage, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';
import { parseVerbArgs, usageOf, type Verb } from './verb-args.js';

export const POD_HELP = `tapwire pod up <name> --nad-dir DIR --networks ANNOTATION [--default CONFLIST] | status <name> [--json] | down <name>
  A single-node kubelet + Multus for one pod: up makes netns <name>, runs the
  default network (eth0) then each network of the k8s.v1.cni.cncf.io/networks
  ANNOTATION ("a, ns/b@if" or JSON) by its NetworkAttachmentDefinition from the
  manifests in DIR, with Multus's interface names, CNI_ARGS and runtimeConfig;
  a NAD's k8s.v1.cni.cncf.io/resourceName is allocated from the macvtap device
  plugin (DP_MACVTAP_CONF) and passed as deviceID. Prints the network-status.
  Then: tapwire launch <name>. down DELs in reverse and removes the netns.
  --namespace NS       the pod's namespace (default "default")
  --conf-dir DIR       configs of NADs without spec.config (default ${DEFAULT_CONF_DIR})
  --cni-path P[:P]     plugin dirs (default $CNI_PATH, else /opt/cni/bin:/usr/lib/cni)
  --state-dir DIR      pods' state (default ${DEFAULT_STATE_ROOT})
  --node-netns NS      run the plugins and the device plugin in NS (default: here)
  --device-plugin-conf JSON   DP_MACVTAP_CONF (default $DP_MACVTAP_CONF, else [])
tapwire pod demo [--accel auto|kvm|tcg] [--timeout D] [--json]
  up, launch and down on examples/kubevirt in throwaway netns; the guest pings
  over eth0 and the macvtap net1; exit 0 only if both answer.`;

const VERB: Verb = { name: 'pod', help: POD_HELP };

const failed = (e: PodError): CliError =>
  e._tag === 'BadAnnotation' || e._tag === 'BadPodName' ? usage(`pod: ${describePodError(e)}`) : { _tag: 'Failed', message: `pod: ${describePodError(e)}` };

const statusTable = (status: readonly NetworkStatus[]): string =>
  renderTable(
    ['INTERFACE', 'NETWORK', 'IPS', 'MAC', 'DEFAULT'],
    status.map((s) => [s.interface ?? '-', s.name, (s.ips ?? []).join(',') || '-', s.mac ?? '-', s.default === true ? 'yes' : '']),
  );

const oneName = (positionals: readonly string[]): E.Either<CliError, string> => {
  const [name, ...extra] = positionals;
  return name === undefined || extra.length > 0 ? E.left(usageOf(VERB, 'expected exactly one pod name')) : E.right(name);
};

const up = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const p = parseVerbArgs(VERB, argv, {
    'nad-dir': { type: 'string' },
    networks: { type: 'string' },
    default: { type: 'string' },
    namespace: { type: 'string', default: 'default' },
    'conf-dir': { type: 'string', default: DEFAULT_CONF_DIR },
    'cni-path': { type: 'string' },
    'state-dir': { type: 'string', default: DEFAULT_STATE_ROOT },
    'node-netns': { type: 'string' },
    'device-plugin-conf': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (E.isLeft(p)) return p;
  const v = p.right.values;
  const name = oneName(p.right.positionals);
  if (E.isLeft(name)) return name;
  if (v['nad-dir'] === undefined) return E.left(usageOf(VERB, 'up needs --nad-dir DIR'));
  const cniPath = (v['cni-path'] ?? process.env['CNI_PATH'] ?? '/opt/cni/bin:/usr/lib/cni').split(':').filter((d) => d !== '');
  // A Ctrl-C (or SIGTERM) during pod up stops it before its next step and undoes what it made.
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => stop.abort(`interrupted (${sig})`);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const r = await podUp({
    name: name.right,
    namespace: v.namespace,
    nadDir: v['nad-dir'],
    networks: v.networks ?? '',
    confDir: v['conf-dir'],
    cniPath,
    stateRoot: v['state-dir'],
    ...(v.default === undefined ? {} : { defaultConf: v.default }),
    ...(v['node-netns'] === undefined ? {} : { nodeNetns: v['node-netns'] }),
    ...(v['device-plugin-conf'] === undefined ? {} : { devicePluginConfig: v['device-plugin-conf'] }),
    log: (line) => io.err(`pod: ${line}`),
    signal: stop.signal,
  })().finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  if (E.isLeft(r)) return E.left(failed(r.left));
  if (v.json) io.out(JSON.stringify({ name: name.right, netns: r.right.state.pod.netns, 'network-status': r.right.status }, null, 2));
  else io.out(`pod ${name.right} is up in netns ${r.right.state.pod.netnsName} (${r.right.state.pod.netns})\n${statusTable(r.right.status)}\nboot a VM on it: tapwire launch ${r.right.state.pod.netnsName}; undo: tapwire pod down ${name.right}`);
  return E.right(undefined);
};

const status = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const p = parseVerbArgs(VERB, argv, { 'state-dir': { type: 'string', default: DEFAULT_STATE_ROOT }, json: { type: 'boolean', default: false } });
  if (E.isLeft(p)) return p;
  const name = oneName(p.right.positionals);
  if (E.isLeft(name)) return name;
  const state = readState(p.right.values['state-dir'], name.right);
  if (E.isLeft(state)) return E.left(failed(state.left));
  const s = readStatus(p.right.values['state-dir'], name.right);
  if (E.isLeft(s)) return E.left(failed(s.left));
  if (p.right.values.json) io.out(JSON.stringify(s.right, null, 2));
  else io.out(`pod ${name.right} (${state.right.pod.namespace}) netns ${state.right.pod.netns}\n${statusTable(s.right as NetworkStatus[])}`);
  return E.right(undefined);
};

const down = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const p = parseVerbArgs(VERB, argv, { 'state-dir': { type: 'string', default: DEFAULT_STATE_ROOT } });
  if (E.isLeft(p)) return p;
  const name = oneName(p.right.positionals);
  if (E.isLeft(name)) return name;
  const r = await podDown(p.right.values['state-dir'], name.right)();
  if (E.isLeft(r)) return E.left(failed(r.left));
  io.out(`pod ${name.right} is down`);
  return E.right(undefined);
};

export const podCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const [sub, ...rest] = argv;
  if (sub === 'up') return up(rest, io);
  if (sub === 'status') return status(rest, io);
  if (sub === 'down') return down(rest, io);
  // Loaded only when run: it brings in QEMU and the CNI plugins' bundler.
  if (sub === 'demo') return (await import('./pod-demo.js')).podDemoCommand(rest, io);
  return E.left(usage(`pod: expected up, status, down or demo\n${POD_HELP}`));
};
