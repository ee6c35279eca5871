// `tapwire launch --via libvirt`: the same pod, NICs and guest as the direct
// QEMU launch, booted the KubeVirt way (a private libvirtd in the pod netns,
// the pod's taps and macvtaps handed over by name). Loaded only for --via
// libvirt, so other launches never evaluate @tapwire/libvirt.
import * as E from 'fp-ts/lib/Either.js';
import { describeLibvirtError, launchViaLibvirt, type LibvirtLaunchResult } from '@tapwire/libvirt';
import type { Model } from '@tapwire/netmodel';
import type { NetnsHandle } from '@tapwire/sys';
import type { CliError } from '../cli-error.js';
import type { Output } from '../output.js';

export interface LibvirtLaunchFlags {
  readonly model: Model;
  readonly queues: number;
  /** No --model given: links attached already keep their recorded model and queues. */
  readonly keepAttached: boolean;
  readonly accel: 'auto' | 'kvm' | 'tcg';
  readonly timeoutMs: number;
  readonly ping: readonly string[];
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly vhostUserDir?: string;
  readonly asTap: readonly string[];
}

export const libvirtLaunchReport = (r: LibvirtLaunchResult) => ({
  ok: r.ok,
  via: 'libvirt',
  attachments: r.attachments,
  nics: r.nics,
  xml: r.xml,
  guest: r.guest ?? null,
  notes: r.notes,
  timings: r.timings,
});

export const launchLibvirtCommand = async (ns: NetnsHandle, f: LibvirtLaunchFlags, io: Output): Promise<E.Either<CliError, void>> => {
  // libvirt probes KVM itself; tapwire's guest under a domain type='kvm' needs a working /dev/kvm.
  const r = await launchViaLibvirt(ns, {
    model: f.model,
    queues: f.queues,
    keepAttached: f.keepAttached,
    accel: f.accel === 'kvm' ? 'kvm' : 'tcg',
    ping: f.ping,
    timeoutMs: f.timeoutMs,
    dryRun: f.dryRun,
    ...(f.vhostUserDir === undefined ? {} : { vhostUserDir: f.vhostUserDir }),
    asTap: f.asTap,
  })();
  if (E.isLeft(r)) {
    const message = describeLibvirtError(r.left);
    // The attach step is the direct launch's: its errors keep their exit codes (bad input: 2).
    return E.left(r.left._tag === 'Qemu' ? { _tag: 'Qemu', error: r.left.error, message } : r.left._tag === 'Netmodel' ? { _tag: 'Netmodel', error: r.left.error } : { _tag: 'Failed', message });
  }
  const res = r.right;
  if (f.json) {
    io.out(JSON.stringify(libvirtLaunchReport(res), null, 2));
  } else if (f.dryRun) {
    io.out(res.xml);
  } else {
    const t = res.timings;
    io.out(
      [
        `scan ${t.scanMs} ms, attach ${t.attachMs} ms, libvirtd ${t.daemonMs ?? '-'} ms, virsh create ${t.createMs ?? '-'} ms,`,
        `guest network up ${t.netUpMs ?? '-'} ms and done ${t.doneMs ?? '-'} ms after create, teardown ${t.teardownMs ?? '-'} ms`,
      ].join(' '),
    );
    for (const n of res.notes) io.out(`note: ${n}`);
    for (const p of res.guest?.pings ?? []) io.out(p._tag === 'PingOk' ? `guest reached ${p.addr} (${p.recv}/${p.sent}, ${p.rttMs} ms)` : `guest could not reach ${p.addr}: ${p.detail}`);
  }
  if (!res.ok) return E.left({ _tag: 'Failed', message: `the guest did not pass: ${(res.guest?.errors ?? []).map((x) => `${x.code}: ${x.detail}`).join('; ') || 'a ping or route failed'}` });
  return E.right(undefined);
};
