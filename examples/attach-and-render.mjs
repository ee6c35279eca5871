// What a VM runtime does with tapwire before it starts QEMU: scan a pod's
// netns, attach every attachable link (tcfilter, 2 queues), open the queue
// fds inside the netns, render the NIC arguments with the fd numbers QEMU
// will see, then detach (a runtime detaches after the VM is gone).
//   node attach-and-render.mjs <netns>        (as root; a name, a path or pid:N)
import * as E from 'fp-ts/lib/Either.js';
import { closeFds, openMacvtapQueues, openTapQueues, resolveNetns } from '@tapwire/sys';
import { classify, scan } from '@tapwire/endpoints';
import { attachAll, detach } from '@tapwire/netmodel';
import { assignFdPositions, renderNicArgs } from '@tapwire/qemu';

/** Every tapwire error is a tagged union: say which and what it carries. */
const ok = (r) => {
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${JSON.stringify(r.left)}`);
  return r.right;
};

const ns = ok(resolveNetns(process.argv[2] ?? ''));
const endpoints = classify(ok(await scan(ns)()));
const attachments = ok(await attachAll(ns, endpoints, 'tcfilter', { queues: 2 })());
try {
  // Open in the order assignFdPositions numbers them: QEMU gets fd 3, 4, ...
  const fds = attachments.flatMap((a) =>
    ok(a.device === 'macvtap' ? openMacvtapQueues(ns, a.tapName, a.queues) : openTapQueues(ns, a.tapName, { queues: a.queues, multiQueue: a.multiQueue, vnetHdr: true })),
  );
  const positions = ok(assignFdPositions(attachments.map((a) => ({ queues: a.queues, vhost: false }))));
  const nics = attachments.map((a, i) => ({ kind: a.device, id: `net${i}`, mac: a.guestMac, mtu: a.mtu, queueFds: positions[i].queueFds, vhostFds: [] }));
  const args = ok(renderNicArgs(nics, 'tcg'));
  // A runtime would now spawn QEMU inside the netns with these fds at 3, 4, ...:
  //   spawn('nsenter', ['--net=' + ns.path, 'qemu-system-x86_64', ...machineArgs, ...args],
  //         { stdio: ['ignore', 'inherit', 'inherit', ...fds] })
  console.log(JSON.stringify({ attachments, fds: fds.length, args }));
  closeFds(fds);
} finally {
  for (const a of attachments.filter((a) => a.existing !== true)) ok(await detach(ns, a)());
}
