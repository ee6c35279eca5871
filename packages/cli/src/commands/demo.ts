import * as E from 'fp-ts/lib/Either.js';
import { classify, endpointReport, scan } from '@tapwire/endpoints';
import { buildGuestImage, describeLaunchError, launchPod } from '@tapwire/qemu';
import { describeSysError, resolveNetns } from '@tapwire/sys';
import type { CliError } from '../cli-error.js';
import { createDemoPod } from '../demo-pod.js';
import type { Output } from '../output.js';
import { progressPrinter, stageTable } from '../progress.js';
import { renderTable } from '../table.js';
import { launchReport, parseLaunchFlags } from './launch.js';
import { parseVerbArgs, type Verb } from './verb-args.js';

export const DEMO_HELP = `tapwire demo [--model M] [--queues N] [--accel auto|kvm|tcg] [--timeout D] [--json]
  Make a throwaway pod netns wired by a veth to a peer netns, inspect it, attach
  it (tcfilter, 2 queues by default), boot the guest, ping the peer from the
  guest, tear everything down and print the stages. Exit 0 on success.`;

const VERB: Verb = { name: 'demo', help: DEMO_HELP };

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
  const say = values.json ? io.err : io.out;

  const image = await buildGuestImage()();
  if (E.isLeft(image)) return E.left({ _tag: 'Failed', message: `guest image: ${describeSysError(image.left)} (run scripts/setup.sh)` });

  const pod = await createDemoPod();
  if (E.isLeft(pod)) return E.left({ _tag: 'Failed', message: `demo pod: ${describeSysError(pod.left)}` });
  try {
    say(`pod netns ${pod.right.pod}: ${pod.right.podIf} ${pod.right.podAddr}/24, peer netns ${pod.right.peer} at ${pod.right.peerAddr}`);
    const ns = resolveNetns(pod.right.pod);
    if (E.isLeft(ns)) return ns;
    const snap = await scan(ns.right)();
    if (E.isLeft(snap)) return snap;
    const reports = classify(snap.right).map(endpointReport);
    say(renderTable(['NAME', 'KIND', 'MAC', 'ADDRESSES', 'ATTACHABLE'], reports.map((r) => [r.name, r.kind, r.mac ?? '-', r.addresses.join(',') || '-', r.skipped === null ? 'yes' : `no: ${r.skipped}`])));
    say(`launching: model ${flags.right.model}, ${flags.right.queues} queue(s), pinging ${pod.right.peerAddr} from the guest`);
    const r = await launchPod(ns.right, {
      ...flags.right,
      ping: [pod.right.peerAddr],
      dryRun: false,
      image: image.right,
      onStage: progressPrinter(io.err, process.stderr.isTTY === true),
    })();
    if (E.isLeft(r)) return E.left({ _tag: 'Failed', message: describeLaunchError(r.left) });
    if (values.json) {
      io.out(JSON.stringify({ pod: pod.right.pod, peer: pod.right.peer, endpoints: reports, ...launchReport(r.right) }, null, 2));
    } else {
      io.out(stageTable(r.right.stages));
      for (const n of r.right.notes) io.out(`note: ${n}`);
      for (const [ifname, n] of Object.entries(r.right.guest?.queues ?? {})) io.out(`guest ${ifname}: ${n} queue pair(s)`);
      for (const p of r.right.guest?.pings ?? []) {
        io.out(p._tag === 'PingOk' ? `guest reached ${p.addr}: ${p.recv}/${p.sent} replies, ${p.rttMs} ms` : `guest could not reach ${p.addr}: ${p.detail}`);
      }
    }
    if (r.right.interrupted) return E.left({ _tag: 'Failed', message: 'interrupted; everything was torn down' });
    return r.right.ok ? E.right(undefined) : E.left({ _tag: 'Failed', message: 'the guest did not reach the peer' });
  } finally {
    await pod.right.remove();
  }
};
