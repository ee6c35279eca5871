import { openSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { fromNodeError } from './errno.js';
import { checkQueues, closeAll } from './fds.js';

const VHOST_NET = '/dev/vhost-net';

/**
 * One /dev/vhost-net fd per queue, for QEMU's vhostfds=. vhost-net is not
 * per-netns: the tap fds decide where packets go.
 */
export const openVhostNet = (queues: number): E.Either<SysError, number[]> => {
  const count = checkQueues('vhost-net queue count', queues);
  if (E.isLeft(count)) return count;
  const fds: number[] = [];
  for (let i = 0; i < queues; i++) {
    try {
      fds.push(openSync(VHOST_NET, 'r+'));
    } catch (e) {
      closeAll(fds);
      if ((e as { code?: unknown }).code === 'ENOENT') {
        return E.left({
          _tag: 'DeviceMissing',
          path: VHOST_NET,
          hint: 'load the vhost_net module (modprobe vhost_net); without it QEMU can only run virtio-net in userspace (vhost=off)',
        });
      }
      return E.left(fromNodeError('open', e, (c) => `opening ${VHOST_NET} for queue ${i + 1}/${queues}: ${c}`));
    }
  }
  return E.right(fds);
};
