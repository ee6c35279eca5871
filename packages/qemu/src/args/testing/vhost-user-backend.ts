// A vhost-user backend that only answers QEMU's start-up handshake (features,
// protocol features, queue count), so QEMU gets past -netdev vhost-user and
// realizes the virtio-net device. It never moves a packet.
import { createServer, type Server, type Socket } from 'node:net';
import type { ExecutionContext } from 'ava';

/** Request codes from QEMU's docs/interop/vhost-user.rst. */
export const REQ = { GET_FEATURES: 1, SET_OWNER: 3, SET_VRING_CALL: 13, GET_PROTOCOL_FEATURES: 15, GET_QUEUE_NUM: 17 } as const;
const FLAG_VERSION = 0x1;
const FLAG_REPLY = 0x4;
const FLAG_NEED_REPLY = 0x8;
const HEADER = 12;

const VIRTIO_NET_F_MQ = 1n << 22n;
const VHOST_USER_F_PROTOCOL_FEATURES = 1n << 30n;
const VIRTIO_F_VERSION_1 = 1n << 32n;
const VHOST_USER_PROTOCOL_F_MQ = 1n << 0n;

export interface FakeVhostUser {
  /** Request codes received, in order, over all connections. */
  readonly requests: number[];
  readonly connections: () => number;
}

const replyU64 = (sock: Socket, request: number, value: bigint): void => {
  const b = Buffer.alloc(HEADER + 8);
  b.writeUInt32LE(request, 0);
  b.writeUInt32LE(FLAG_VERSION | FLAG_REPLY, 4);
  b.writeUInt32LE(8, 8);
  b.writeBigUInt64LE(value, HEADER);
  sock.write(b);
};

export const listenVhostUser = async (t: ExecutionContext, path: string, maxQueues: number): Promise<FakeVhostUser> => {
  const requests: number[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    connections += 1;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= HEADER && buf.length >= HEADER + buf.readUInt32LE(8)) {
        const request = buf.readUInt32LE(0);
        const flags = buf.readUInt32LE(4);
        buf = buf.subarray(HEADER + buf.readUInt32LE(8));
        requests.push(request);
        if (request === REQ.GET_FEATURES) replyU64(sock, request, VIRTIO_F_VERSION_1 | VHOST_USER_F_PROTOCOL_FEATURES | VIRTIO_NET_F_MQ);
        else if (request === REQ.GET_PROTOCOL_FEATURES) replyU64(sock, request, VHOST_USER_PROTOCOL_F_MQ);
        else if (request === REQ.GET_QUEUE_NUM) replyU64(sock, request, BigInt(maxQueues));
        else if ((flags & FLAG_NEED_REPLY) !== 0) replyU64(sock, request, 0n);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { requests, connections: () => connections };
};
