import * as E from 'fp-ts/lib/Either.js';
import { MODELS, parseQueues, type Model } from '@tapwire/netmodel';
import { describeQemuError, launchPod, type AccelChoice, type LaunchResult } from '@tapwire/qemu';
import { resolveNetns } from '@tapwire/sys';
import { usage, type CliError } from '../cli-error.js';
import { parseDuration } from '../duration.js';
import type { Output } from '../output.js';
import { progressPrinter } from '../progress.js';
import { parseOneNetnsArgs, scanOptionsOf, SCAN_OPTIONS, type Verb } from './verb-args.js';

export const LAUNCH_HELP = `tapwire launch <netns> [--model tcfilter|macvtap|none] [--queues N] [--vhost auto|on|off]
               [--ping ADDR]... [--accel auto|kvm|tcg] [--timeout D] [--dry-run] [--json]
               [--vhost-user-dir DIR] [--tap NAME]... [--via qemu|libvirt]
  Attach every attachable endpoint, boot the guest with the queue fds, and
  with --ping exit 0 only if the guest reached every ADDR. Always detaches.
  --dry-run prints the QEMU command line with its fd numbers and changes nothing.
  --vhost-user-dir DIR: a link is a vhost-user endpoint when a backend's socket
    exists at DIR/vhostuser_<address>/vhu.sock for one of its addresses
    (default /tmp); the guest NIC then gets --queues queues from that backend.
  --tap NAME hands a tap over as is (kind "tap", model none).
  Links attached already (tapwire attach) are used as they are unless --model
  is given (then they must be attached with that model and --queues).
  --via libvirt boots the same guest the KubeVirt way: a private libvirtd in the
    pod netns (and a mount namespace of its own) gets the pod's taps and macvtaps
    by name (<interface type='ethernet'> managed='no'); --dry-run prints the
    domain XML. Needs libvirtd and virsh.`;

const VERB: Verb = { name: 'launch', help: LAUNCH_HELP };

const oneOf = <T extends string>(flag: string, value: string | undefined, allowed: readonly T[], dflt: T): E.Either<CliError, T> =>
  value === undefined
    ? E.right(dflt)
    : (allowed as readonly string[]).includes(value)
      ? E.right(value as T)
      : E.left(usage(`${flag} ${JSON.stringify(value)}: expected one of ${allowed.join(', ')}`));

export interface LaunchFlags {
  readonly model: Model;
  readonly queues: number;
  readonly vhost: 'auto' | 'on' | 'off';
  readonly accel: AccelChoice;
  readonly timeoutMs: number;
}

export const parseLaunchFlags = (v: {
  model?: string | undefined;
  queues?: string | undefined;
  vhost?: string | undefined;
  accel?: string | undefined;
  timeout?: string | undefined;
}): E.Either<CliError, LaunchFlags> => {
  const model = oneOf('--model', v.model, MODELS, 'tcfilter');
  if (E.isLeft(model)) return model;
  const queues = v.queues === undefined ? E.right(1) : E.mapLeft((e: { _tag: string }) => usage(`--queues ${JSON.stringify(v.queues)}: ${'expected' in e ? String(e.expected) : 'bad value'}`))(parseQueues(v.queues));
  if (E.isLeft(queues)) return queues;
  const vhost = oneOf('--vhost', v.vhost, ['auto', 'on', 'off'] as const, 'auto');
  if (E.isLeft(vhost)) return vhost;
  const accel = oneOf('--accel', v.accel, ['auto', 'kvm', 'tcg'] as const, 'auto');
  if (E.isLeft(accel)) return accel;
  const timeoutMs = v.timeout === undefined ? E.right(120_000) : parseDuration('--timeout', v.timeout);
  if (E.isLeft(timeoutMs)) return timeoutMs;
  return E.right({ model: model.right, queues: queues.right, vhost: vhost.right, accel: accel.right, timeoutMs: timeoutMs.right });
};

export const launchReport = (r: LaunchResult) => ({
  ok: r.ok,
  accel: r.accel ?? null,
  attachments: r.attachments,
  nics: r.nics,
  argv: r.argv,
  fds: r.fds,
  guest: r.guest ?? null,
  notes: r.notes,
  stages: r.stages,
});

export const launchCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const args = parseOneNetnsArgs(VERB, argv, {
    model: { type: 'string' },
    queues: { type: 'string' },
    vhost: { type: 'string' },
    ping: { type: 'string', multiple: true },
    accel: { type: 'string' },
    timeout: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    via: { type: 'string' },
    ...SCAN_OPTIONS,
  });
  if (E.isLeft(args)) return args;
  const { values, spec } = args.right;
  const flags = parseLaunchFlags(values);
  if (E.isLeft(flags)) return flags;
  const via = oneOf('--via', values.via, ['qemu', 'libvirt'] as const, 'qemu');
  if (E.isLeft(via)) return via;
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return ns;
  const json = values.json;
  if (via.right === 'libvirt') {
    if (flags.right.vhost === 'on') return E.left(usage('--vhost on: with --via libvirt, libvirt decides (it uses /dev/vhost-net when it exists)'));
    // Loaded only here: other launches never evaluate @tapwire/libvirt.
    const { launchLibvirtCommand } = await import('./launch-libvirt.js');
    return launchLibvirtCommand(
      ns.right,
      // As the direct launch: without --model, links attached already are used as they are.
      { ...flags.right, keepAttached: values.model === undefined, ping: values.ping ?? [], dryRun: values['dry-run'], json, ...scanOptionsOf(values) },
      io,
    );
  }
  const dryRun = values['dry-run'];
  // The stages are shown live on stderr, once; stdout carries the result only
  // (text: notes and what the guest reached; a dry run: the command line;
  // --json: one JSON object, its stages included).
  const onStage = progressPrinter(io.err, io.errIsTerminal === true);
  // Always a signal: a Ctrl-C (or SIGTERM) at any point of the launch, QEMU's
  // start-up included, stops the VM and restores the netns before exiting.
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => stop.abort(`interrupted (${sig})`);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const r = await launchPod(ns.right, {
    ...flags.right,
    ping: values.ping ?? [],
    dryRun,
    // Without --model, links attached already (`tapwire attach`) are used as they are.
    keepAttached: values.model === undefined,
    ...scanOptionsOf(values),
    onStage,
    signal: stop.signal,
  })().finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  if (E.isLeft(r)) return E.left({ _tag: 'Qemu', error: r.left, message: describeQemuError(r.left) });
  const res = r.right;
  if (json) {
    io.out(JSON.stringify(launchReport(res), null, 2));
  } else if (dryRun) {
    io.out(res.fds.map((f) => `# fd ${f.fd}: ${f.what}`).join('\n'));
    io.out(res.argv.map((a) => (/^[A-Za-z0-9_=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' '));
  } else {
    for (const n of res.notes) io.out(`note: ${n}`);
    for (const p of res.guest?.pings ?? []) io.out(p._tag === 'PingOk' ? `guest reached ${p.addr} (${p.recv}/${p.sent}, ${p.rttMs} ms)` : `guest could not reach ${p.addr}: ${p.detail}`);
  }
  if (res.interrupted) return E.left({ _tag: 'Failed', message: 'interrupted; the netns was restored' });
  if (!res.ok) return E.left({ _tag: 'Failed', message: `the guest did not pass: ${(res.guest?.errors ?? []).map((x) => `${x.code}: ${x.detail}`).join('; ') || 'a ping or route failed'}` });
  return E.right(undefined);
};
