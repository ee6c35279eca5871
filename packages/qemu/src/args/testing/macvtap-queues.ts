// Real queue fds without the tap FFI: a macvtap's character device needs no
// ioctl, each open() of it is one more queue. The device node is made in our
// own directory from the major:minor the netns's sysfs reports, because
// /dev/tap<ifindex> names collide between netns (ifindexes are per netns).
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import * as iots from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { sh } from '@tapwire/testkit';

const LinkIndex = iots.array(iots.type({ ifindex: iots.number }));

export interface MacvtapQueues {
  readonly ifname: string;
  readonly fds: readonly number[];
}

export const openMacvtapQueues = async (
  t: ExecutionContext,
  opts: { readonly netns: string; readonly dir: string; readonly queues: number; readonly mtu: number },
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
  const links = LinkIndex.decode(JSON.parse(await sh(['ip', '-n', opts.netns, '-j', 'link', 'show', ifname])));
  if (E.isLeft(links) || links.right[0] === undefined) throw new Error(`ip -j link show ${ifname}: no ifindex`);
  const ifindex = links.right[0].ifindex;
  // `ip netns exec` remounts /sys for the netns, so this is the macvtap's own node.
  const dev = (await sh(['ip', 'netns', 'exec', opts.netns, 'cat', `/sys/class/net/${ifname}/macvtap/tap${ifindex}/dev`])).trim();
  const m = /^(\d+):(\d+)$/.exec(dev);
  if (m?.[1] === undefined || m[2] === undefined) throw new Error(`unexpected macvtap dev ${JSON.stringify(dev)}`);
  const node = join(opts.dir, `tap${ifindex}`);
  await sh(['mknod', '-m', '600', node, 'c', m[1], m[2]]);
  const fds: number[] = [];
  t.teardown(() => {
    for (const fd of fds) closeSync(fd);
  });
  for (let i = 0; i < opts.queues; i += 1) fds.push(openSync(node, 'r+'));
  return { ifname, fds };
};
