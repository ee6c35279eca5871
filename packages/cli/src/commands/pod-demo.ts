// `tapwire pod demo`: the KubeVirt-style flow of the pod README in one
// command, on any machine: pod up with the kubevirt example NADs (bridge ->
// tc-redirect-tap on eth0, the macvtap `dataplane` network from the device
// plugin on net1), a guest booted on both that pings over each, pod down.
// Everything "node" lives in a throwaway netns (the bridge, the macvtap's
// lower device: one end of a veth whose other end is the address net1
// pings), so the host's links and NIC names never matter; our CNI plugins go
// into a temp dir searched before /usr/lib/cni. All of it is removed at the
// end, also on failure and on Ctrl-C (the step running finishes first).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { installPlugins } from '@tapwire/cni';
import { describePodError, podDown, podUp, type NetworkStatus } from '@tapwire/pod';
import { buildGuestImage, describeLaunchError, launchPod, type LaunchOptions, type StageEvent } from '@tapwire/qemu';
import { describeSysError, netnsLockFile, resolveNetns, run } from '@tapwire/sys';
import { describeCliError, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';
import { progressPrinter } from '../progress.js';
import { launchReport, parseLaunchFlags } from './launch.js';
import { parseVerbArgs, type Verb } from './verb-args.js';

/** The demo's part of `tapwire pod --help` says what it does; a bad demo command line shows this. */
const VERB: Verb = { name: 'pod demo', help: 'tapwire pod demo [--accel auto|kvm|tcg] [--timeout D] [--json]' };

/** The annotation of the pod README's example: net1 gets this MAC and a TEST-NET-1 address its peer answers on. */
const NETWORKS = '[{"name":"dataplane","mac":"02:23:45:67:89:01","ips":["192.0.2.10/24"]}]';
const DATAPLANE_PEER = '192.0.2.1';

/** @tapwire/pod's examples/kubevirt (NADs and the default conflist), wherever the package is installed. */
export const kubevirtExamplesDir = (): string => join(dirname(createRequire(import.meta.url).resolve('@tapwire/pod')), '..', 'examples', 'kubevirt');

const Conflist = t.type({ plugins: t.array(t.UnknownRecord) });
const HostLocal = t.type({ ipam: t.type({ ranges: t.array(t.array(t.type({ gateway: t.string }))) }) });

/**
 * The example's default conflist with host-local's leases in `ipamDir`
 * instead of /var/lib/cni/networks, and its gateway (the bridge: what eth0 pings).
 */
const defaultConflist = (file: string, ipamDir: string): E.Either<string, { text: string; gateway: string }> => {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return E.left(`${file}: ${(e as Error).message}`);
  }
  const c = Conflist.decode(raw);
  if (E.isLeft(c)) return E.left(`${file}: expected a conflist with plugins`);
  const ipam = c.right.plugins.map((p) => HostLocal.decode(p)).find(E.isRight);
  const gateway = ipam?.right.ipam.ranges[0]?.[0]?.gateway;
  if (gateway === undefined) return E.left(`${file}: expected a host-local plugin with a range's gateway`);
  const plugins = c.right.plugins.map((p) => (HostLocal.is(p) ? { ...p, ipam: { ...p.ipam, dataDir: ipamDir } } : p));
  return E.right({ text: JSON.stringify({ ...(raw as object), plugins }), gateway });
};

/** The throwaway node and everything `pod up` needs, removed by remove() (safe twice). */
export interface PodDemoRig {
  readonly dir: string;
  readonly nodeNetns: string;
  readonly pod: string;
  readonly cniPath: readonly string[];
  readonly nadDir: string;
  readonly defaultConf: string;
  readonly stateDir: string;
  readonly networks: string;
  readonly devicePluginConf: string;
  /** What the guest pings: eth0's gateway (the bridge in the node), net1's peer. */
  readonly pings: readonly [string, string];
  readonly remove: () => Promise<void>;
}

/** The node netns (2 ip processes) and the temp dir with the default conflist; the plugins are installed apart. */
export const makePodDemoRig = async (): Promise<E.Either<string, PodDemoRig>> => {
  const id = randomBytes(3).toString('hex');
  const nodeNetns = `tw-node-${id}`;
  const pod = `twdemo-${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-pod-demo-'));
  const remove = async () => {
    // The pod's netns too: pod down removes it, unless down failed or never ran.
    await run(['ip', '-force', '-batch', '-'], { input: `netns del ${pod}\nnetns del ${nodeNetns}\n` })();
    rmSync(dir, { recursive: true, force: true });
  };
  const examples = kubevirtExamplesDir();
  const conf = defaultConflist(join(examples, 'podnet.conflist'), join(dir, 'ipam'));
  if (E.isLeft(conf)) {
    await remove();
    return conf;
  }
  const defaultConf = join(dir, 'podnet.conflist');
  writeFileSync(defaultConf, conf.right.text);
  for (const [argv, input] of [
    [['ip', 'netns', 'add', nodeNetns], undefined],
    [['ip', '-n', nodeNetns, '-batch', '-'], `link set lo up\nlink add dp0 type veth peer name dp0peer\naddr add ${DATAPLANE_PEER}/24 dev dp0peer\nlink set dp0 up\nlink set dp0peer up\n`],
  ] as const) {
    const r = await run(argv, input === undefined ? {} : { input })();
    if (E.isLeft(r)) {
      await remove();
      return E.left(describeSysError(r.left));
    }
  }
  return E.right({
    dir,
    nodeNetns,
    pod,
    cniPath: [join(dir, 'bin'), '/usr/lib/cni'],
    nadDir: examples,
    defaultConf,
    stateDir: join(dir, 'pods'),
    networks: NETWORKS,
    devicePluginConf: '[{"name":"dataplane","lowerDevice":"dp0","capacity":1}]',
    pings: [conf.right.gateway, DATAPLANE_PEER],
    remove,
  });
};

type DemoStage = 'node' | 'plugins' | 'pod-up' | 'pod-down' | 'cleanup';
interface DemoRecord {
  readonly stage: DemoStage;
  readonly status: 'ok' | 'fail' | 'skip';
  readonly ms: number;
  readonly note: string | undefined;
}

/** The demo's own stages, shown by the same printer as launch's (it reads a stage's name as a label only). */
const demoStages = (show: (e: StageEvent) => void) => {
  const records: DemoRecord[] = [];
  const emit = (e: { stage: DemoStage; status: StageEvent['status']; ms?: number; note?: string }) => show(e as unknown as StageEvent);
  const step = async <A>(stage: DemoStage, f: () => Promise<E.Either<string, A>>, note: (a: A) => string): Promise<E.Either<string, A>> => {
    const start = Date.now();
    emit({ stage, status: 'start' });
    let r: E.Either<string, A>;
    try {
      r = await f();
    } catch (e) {
      r = E.left((e as Error).message);
    }
    const rec: DemoRecord = { stage, status: E.isRight(r) ? 'ok' : 'fail', ms: Date.now() - start, note: E.isRight(r) ? note(r.right) : r.left.split('\n')[0] };
    records.push(rec);
    emit({ stage, status: rec.status, ms: rec.ms, ...(rec.note === undefined ? {} : { note: rec.note }) });
    return r;
  };
  const skip = (stage: DemoStage, note: string) => {
    records.push({ stage, status: 'skip', ms: 0, note });
    emit({ stage, status: 'skip', note });
  };
  return { step, skip, records: (): readonly DemoRecord[] => records };
};

const failed = (message: string): E.Either<CliError, never> => E.left({ _tag: 'Failed', message: `pod demo: ${message}` });
const INTERRUPTED = failed('interrupted; everything was torn down');

interface Run {
  readonly say: (line: string) => void;
  readonly onStage: (e: StageEvent) => void;
  readonly stages: ReturnType<typeof demoStages>;
  readonly launch: Omit<LaunchOptions, 'ping' | 'onStage'>;
  /** Aborted by Ctrl-C (SIGINT) or SIGTERM: launch stops the VM at once, the other steps run to their end. */
  readonly signal: AbortSignal;
  /** The JSON report, filled in as the demo goes. */
  readonly report: Record<string, unknown>;
  /** Set as soon as there is something to tear down. */
  rig?: PodDemoRig;
}

/** node, plugins, pod up, launch with both pings; the caller tears down whatever this made. */
const demo = async (x: Run): Promise<E.Either<CliError, void>> => {
  const made = await x.stages.step('node', makePodDemoRig, (r) => `netns ${r.nodeNetns}: dp0 <-veth-> dp0peer ${r.pings[1]}`);
  if (E.isLeft(made)) return failed(`node netns: ${made.left}`);
  const r = (x.rig = made.right);
  Object.assign(x.report, { pod: r.pod, nodeNetns: r.nodeNetns, dir: r.dir });
  const bin = r.cniPath[0] ?? '';
  const plugins = await x.stages.step('plugins', async () => E.right(await installPlugins(bin)), (w) => `${w.map((p) => p.plugin).join(', ')} in ${bin}, then /usr/lib/cni`);
  if (E.isLeft(plugins)) return failed(`installing the CNI plugins: ${plugins.left}`);
  if (x.signal.aborted) return INTERRUPTED;

  const up = await x.stages.step(
    'pod-up',
    async () =>
      E.mapLeft(describePodError)(
        await podUp({
          name: r.pod,
          namespace: 'default',
          nadDir: r.nadDir,
          networks: r.networks,
          defaultConf: r.defaultConf,
          confDir: join(r.dir, 'conf.d'),
          cniPath: r.cniPath,
          stateRoot: r.stateDir,
          nodeNetns: `/var/run/netns/${r.nodeNetns}`,
          devicePluginConfig: r.devicePluginConf,
          signal: x.signal,
        })(),
      ),
    (u) => `netns ${u.state.pod.netnsName}: ${u.status.map((s) => `${s.interface ?? '?'} ${s.name}`).join(', ')}`,
  );
  if (E.isLeft(up)) return x.signal.aborted ? INTERRUPTED : failed(`pod up: ${up.left}`);
  const podNs = resolveNetns(r.pod);
  const nodeNs = resolveNetns(r.nodeNetns);
  if (E.isLeft(podNs) || E.isLeft(nodeNs)) return failed('the pod or node netns vanished after pod up');
  const status: readonly NetworkStatus[] = up.right.status;
  x.report['networkStatus'] = status;
  // The locks pod up and launch take on these netns: the report names them so a check can see them gone.
  x.report['lockFiles'] = [nodeNs.right, podNs.right].map((ns) => netnsLockFile(ns)).flatMap((f) => (E.isRight(f) ? [f.right] : []));
  x.say(`\nk8s.v1.cni.cncf.io/network-status of pod ${r.pod}, as Multus writes it:`);
  for (const s of status) x.say(`  ${JSON.stringify(s)}`);
  if (x.signal.aborted) return INTERRUPTED;

  const [gateway, peer] = r.pings;
  x.say(`\nbooting the guest on eth0 (tap) and net1 (macvtap); it pings ${gateway} over eth0 and ${peer} over net1:`);
  // Spread, not named: launchPod takes `signal` since qemu's reshape (it stops the VM
  // at once); a launchPod from before ignores it and stops the VM on SIGINT itself.
  const abort = { signal: x.signal };
  const launched = await launchPod(podNs.right, { ...x.launch, ping: r.pings, onStage: x.onStage, ...abort })();
  if (E.isLeft(launched)) return x.signal.aborted ? INTERRUPTED : failed(describeLaunchError(launched.left));
  x.report['launch'] = launchReport(launched.right);
  const pings = launched.right.guest?.pings ?? [];
  const answered = (addr: string) => pings.some((p) => p.addr === addr && p._tag === 'PingOk');
  x.report['pings'] = [
    { interface: 'eth0', addr: gateway, ok: answered(gateway) },
    { interface: 'net1', addr: peer, ok: answered(peer) },
  ];
  for (const p of pings) x.say(p._tag === 'PingOk' ? `guest reached ${p.addr}: ${p.recv}/${p.sent} replies, ${p.rttMs} ms` : `guest could not reach ${p.addr}: ${p.detail}`);
  if (launched.right.interrupted || x.signal.aborted) return INTERRUPTED;
  const missed = r.pings.filter((a) => !answered(a));
  return missed.length === 0 ? E.right(undefined) : failed(`the guest did not reach ${missed.join(' and ')}`);
};

/** pod down (its DELs run in the node netns, so before it goes), then the netns and the temp dir. */
const teardown = async (x: Run, r: PodDemoRig): Promise<E.Either<string, void>> => {
  let down: E.Either<string, void> = E.right(undefined);
  if (existsSync(join(r.stateDir, r.pod))) {
    down = await x.stages.step('pod-down', async () => E.mapLeft(describePodError)(await podDown(r.stateDir, r.pod)()), () => `DEL in reverse, netns ${r.pod} removed`);
  } else x.stages.skip('pod-down', 'no pod was made');
  const gone = await x.stages.step(
    'cleanup',
    async () => {
      await r.remove();
      const left = [`/run/netns/${r.pod}`, `/run/netns/${r.nodeNetns}`, r.dir].filter((p) => existsSync(p));
      return left.length === 0 ? E.right(undefined) : E.left(`still there: ${left.join(', ')}`);
    },
    () => `netns ${r.nodeNetns} and ${r.dir} removed`,
  );
  return E.isLeft(down) ? E.left(`pod down: ${down.left}`) : E.isLeft(gone) ? E.left(`cleanup: ${gone.left}`) : E.right(undefined);
};

export const podDemoCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const parsed = parseVerbArgs(
    VERB,
    argv,
    { accel: { type: 'string' }, timeout: { type: 'string', default: '300s' }, json: { type: 'boolean', default: false } },
    { positionals: false },
  );
  if (E.isLeft(parsed)) return parsed;
  const { values } = parsed.right;
  const flags = parseLaunchFlags(values);
  if (E.isLeft(flags)) return flags;
  const json = values.json;
  if (process.getuid?.() !== 0) return failed('needs root: it makes network namespaces, links and a VM (sudo pnpm -s tapwire pod demo)');
  const image = await buildGuestImage()();
  if (E.isLeft(image)) return failed(`guest image: ${describeSysError(image.left)} (run scripts/setup.sh)`);

  // Ctrl-C stops the VM, or lets a shorter step finish; then everything is torn down.
  const interrupt = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => interrupt.abort(new Error(`${sig}: interrupted`));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // As `tapwire demo`: text tells the story on stdout with the stages live in
  // it; --json tells it on stderr and prints one JSON object on stdout.
  const onStage = progressPrinter(json ? io.err : io.out, (json ? io.errIsTerminal : io.outIsTerminal) === true);
  const x: Run = {
    say: json ? io.err : io.out,
    onStage,
    stages: demoStages(onStage),
    launch: { ...flags.right, dryRun: false, image: image.right },
    signal: interrupt.signal,
    report: {},
  };
  let result: E.Either<CliError, void> = INTERRUPTED;
  try {
    x.say('tapwire pod demo: a KubeVirt-style VM on a pod network and a macvtap secondary network, in throwaway netns');
    result = await demo(x);
  } finally {
    const down = x.rig === undefined ? E.right(undefined) : await teardown(x, x.rig);
    if (E.isLeft(down) && E.isRight(result)) result = failed(down.left);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  const records = x.stages.records();
  const launchStages = (x.report['launch'] as { stages?: readonly unknown[] } | undefined)?.stages ?? [];
  if (json) {
    const [before, after] = [records.filter((s) => !['pod-down', 'cleanup'].includes(s.stage)), records.filter((s) => ['pod-down', 'cleanup'].includes(s.stage))];
    const error = E.isLeft(result) ? { error: describeCliError(result.left) } : {};
    io.out(JSON.stringify({ ok: E.isRight(result), ...error, interrupted: interrupt.signal.aborted, ...x.report, stages: [...before, ...launchStages, ...after] }, null, 2));
  } else if (E.isRight(result)) {
    x.say(`\npod demo ok: the guest reached ${x.rig?.pings.join(' over eth0 and ') ?? ''} over net1; everything it made is removed`);
  }
  return result;
};
