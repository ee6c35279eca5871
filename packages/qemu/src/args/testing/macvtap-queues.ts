// Real queue fds for a test QEMU: a macvtap on a veth in the test's netns,
// its queues opened by @tapwire/sys exactly as the launcher opens them.
import type { ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { closeFds, describeSysError, openMacvtapQueues, resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { sh } from '@tapwire/testkit';

export interface MacvtapQueues {
  readonly ns: NetnsHandle;
  readonly ifname: string;
  readonly fds: readonly number[];
}

/** Makes macvtap mvt0 (bridge mode, on veth mvp0, both up at `mtu`) and opens `queues` fds on it. */
export const makeMacvtapQueues = async (
  t: ExecutionContext,
  opts: { readonly netns: string; readonly queues: number; readonly mtu: number },
): Promise<MacvtapQueues> => {
  const mtu = String(opts.mtu);
  const ifname = 'mvt0';
  await sh(
    ['ip', '-n', opts.netns, '-batch', '-'],
    [
      `link add mvp0 mtu ${mtu} type veth peer name mvp1 mtu ${mtu}`,
      `link add link mvp0 name ${ifname} mtu ${mtu} type macvtap mode bridge`,
      `link set mvp0 up`,
      `link set ${ifname} up`,
      '',
    ].join('\n'),
  );
  const ns = resolveNetns(opts.netns);
  if (E.isLeft(ns)) throw new Error(describeSysError(ns.left));
  const fds = openMacvtapQueues(ns.right, ifname, opts.queues);
  if (E.isLeft(fds)) throw new Error(describeSysError(fds.left));
  t.teardown(() => void closeFds(fds.right));
  return { ns: ns.right, ifname, fds: fds.right };
};
