import * as E from 'fp-ts/lib/Either.js';
import { classify, endpointReport, scan } from '@tapwire/endpoints';
import { buildGuestImage, describeQemuError, launchPod, type GuestReport } from '@tapwire/qemu';
import { describeSysError, resolveNetns } from '@tapwire/sys';
import type { CliError } from '../cli-error.js';
import { createDemoPod } from '../demo-pod.js';
import type { Output } from '../output.js';
import { progressPrinter } from '../progress.js';
import { renderTable } from '../table.js';
import { launchReport, parseLaunchFlags } from './launch.js';
import { parseVerbArgs, type Verb } from './verb-args.js';

export const DEMO_HELP = `tapwire demo [--model M] [--queues N] [--accel auto|kvm|tcg] [--timeout D] [--json]
  Make a throwaway pod netns wired by a veth to a peer netns, inspect it, attach
  it (tcfilter, 2 queues by default), boot the guest, ping the peer from the
  guest and tear everything down, showing each stage as it ends. Where /dev/kvm
  opens but cannot run the guest, the boot falls back to TCG (a note, not a
  failure). --json: one JSON object on stdout, the stages on stderr. Exit 0 on success.`;

const VERB: Verb = { name: 'demo', help: DEMO_HELP };

/** Why a guest that came up did not pass, in its own words (a ping can answer and a route still fail). */
const guestFailure = (guest: GuestReport | undefined): string => {
  const why = [
    ...(guest?.errors ?? []).map((e) => `${e.code}: ${e.detail}`),
    ...(guest?.routes ?? []).flatMap((r) => (r._tag === 'RouteFail' ? [`route ${r.dst}: ${r.detail}`] : [])),
    ...(guest?.pings ?? []).flatMap((p) => (p._tag === 'PingFail' ? [`ping ${p.addr}: ${p.detail}`] : [])),
  ];
  return `the guest did not pass: ${why.join('; ') || 'it reported a failure; `tapwire demo --json` shows its whole report'}`;
};

export const demoCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const parsed = parseVerbArgs(
    VERB,
    argv,
    {
      model: { type: 'string' },
      queues: { type: 'string', default: '2' },
      accel: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    { positionals: false },
  );
  if (E.isLeft(parsed)) return parsed;
  const { values } = parsed.right;
  const flags = parseLaunchFlags(values);
  if (E.isLeft(flags)) return flags;
  const json = values.json;
  // Text: the demo's story on stdout, stages live in it, once. --json: the
  // story and the live stages on stderr, one JSON object on stdout.
  const say = json ? io.err : io.out;
  const onStage = json ? progressPrinter(io.err, io.errIsTerminal === true) : progressPrinter(io.out, io.outIsTerminal === true);

  const image = await buildGuestImage()();
  if (E.isLeft(image)) return E.left({ _tag: 'Failed', message: `guest image: ${describeSysError(image.left)} (run scripts/setup.sh)` });

  const pod = await createDemoPod();
  if (E.isLeft(pod)) return E.left({ _tag: 'Failed', message: `demo pod: ${describeSysError(pod.left)}` });
  const p = pod.right;
  let result: E.Either<CliError, void>;
  try {
    say(`pod netns ${p.pod}: ${p.podIf} ${p.podAddr}/24, a veth to the peer netns ${p.peer} at ${p.peerAddr} (both are removed at the end)`);
    const ns = resolveNetns(p.pod);
    if (E.isLeft(ns)) return ns;
    const snap = await scan(ns.right)();
    if (E.isLeft(snap)) return snap;
    const reports = classify(snap.right).map(endpointReport);
    say('\nwhat tapwire finds in the pod netns (as `tapwire inspect` shows it):');
    say(renderTable(['NAME', 'KIND', 'MAC', 'ADDRESSES', 'ATTACHABLE'], reports.map((r) => [r.name, r.kind, r.mac ?? '-', r.addresses.join(',') || '-', r.skipped === null ? 'yes' : `no: ${r.skipped}`])));
    say(`\nlaunching a VM on it (model ${flags.right.model}, ${flags.right.queues} queue(s)); the guest pings ${p.peerAddr}:`);
    const r = await launchPod(ns.right, { ...flags.right, ping: [p.peerAddr], dryRun: false, image: image.right, onStage })();
    if (E.isLeft(r)) return E.left({ _tag: 'Qemu', error: r.left, message: describeQemuError(r.left) });
    if (json) {
      io.out(JSON.stringify({ pod: p.pod, peer: p.peer, endpoints: reports, ...launchReport(r.right) }, null, 2));
    } else {
      say('');
      for (const [ifname, n] of Object.entries(r.right.guest?.queues ?? {})) say(`guest ${ifname}: ${n} queue pair(s)`);
      for (const ping of r.right.guest?.pings ?? []) {
        say(ping._tag === 'PingOk' ? `guest reached ${ping.addr}: ${ping.recv}/${ping.sent} replies, ${ping.rttMs} ms` : `guest could not reach ${ping.addr}: ${ping.detail}`);
      }
      for (const n of r.right.notes) say(`note: ${n}`);
    }
    if (r.right.interrupted) return E.left({ _tag: 'Failed', message: 'interrupted; everything was torn down' });
    result = r.right.ok ? E.right(undefined) : E.left({ _tag: 'Failed', message: guestFailure(r.right.guest) });
  } finally {
    await p.remove();
  }
  if (E.isRight(result) && !json) say(`\ndemo ok: the guest reached ${p.peerAddr} through the pod's ${p.podIf}; ${p.pod} and ${p.peer} are removed`);
  return result;
};
