// One rtnetlink socket, owned by whoever opened it: requests go out many per
// send() (pipelined: the kernel runs each message of the datagram in turn and
// queues one ack each), then the acks are read back and matched by sequence
// number. The socket belongs to the netns of the thread that created it, so
// open it inside withNetnsSync; afterwards it works from anywhere.
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { decodeAck, isDone, type Ack } from './ack.js';
import { ncall, nclose } from './libc-net.js';
import { encodeRequest, type Request } from './requests.js';
import { NLMSG_ERROR, splitMessages, type Received } from './wire.js';
import { endianness } from 'node:os';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const SIOCGIFINDEX = 0x8933;

/** Messages per send(): their acks must fit the receive buffer until we read them. */
export const PIPELINE_DEPTH = 128;
const RECV_BYTES = 256 * 1024;
const LE = endianness() === 'LE';

const int = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  if (LE) b.writeInt32LE(v);
  else b.writeInt32BE(v);
  return b;
};

/** What one request came to: its ack, or why it was never sent (it could not be encoded). */
export type Outcome = Ack | { readonly seq: number; readonly errno: number; readonly message: string; readonly unsent: true };

export interface NetlinkSocket {
  readonly fd: number;
  /** Sends every request pipelined and returns one outcome per request, in order. */
  readonly exchange: (requests: readonly Request[]) => E.Either<SysError, readonly Outcome[]>;
  /** A dump request's messages (NLMSG_DONE excluded). */
  readonly dump: (request: Request) => E.Either<SysError, readonly Received[]>;
  /** The ifindex of a link name in the socket's netns, undefined when there is none. */
  readonly ifindex: (name: string) => number | undefined;
  readonly close: () => void;
}

export const openNetlinkSocket = (): E.Either<SysError, NetlinkSocket> => {
  const fd = ncall('socket', (c) => `opening an rtnetlink socket: ${c}`, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (E.isLeft(fd)) return fd;
  const s = fd.right;
  const opt = (level: number, name: number, value: Buffer, what: string) => ncall('setsockopt', (c) => `${what}: ${c}`, s, level, name, value, value.length);
  // Short acks (no copy of the request) with the kernel's reason text.
  const setup = [
    opt(SOL_NETLINK, NETLINK_CAP_ACK, int(1), 'NETLINK_CAP_ACK'),
    opt(SOL_NETLINK, NETLINK_EXT_ACK, int(1), 'NETLINK_EXT_ACK'),
    opt(SOL_SOCKET, SO_RCVTIMEO, Buffer.concat([int(5), int(0), int(0), int(0)]), 'SO_RCVTIMEO'),
  ].find(E.isLeft);
  if (setup !== undefined) {
    nclose(s);
    return setup;
  }
  // Room for a whole pipeline's acks and a dump's datagrams; without CAP_NET_ADMIN the smaller SO_RCVBUF will do.
  if (E.isLeft(opt(SOL_SOCKET, SO_RCVBUFFORCE, int(4 << 20), 'SO_RCVBUFFORCE'))) opt(SOL_SOCKET, SO_RCVBUF, int(4 << 20), 'SO_RCVBUF');
  const rx = Buffer.alloc(RECV_BYTES);
  let seq = 1;
  const ifr = Buffer.alloc(40);

  const send = (buf: Buffer): E.Either<SysError, void> => {
    const r = ncall('send', (c) => `sending ${buf.length} bytes of rtnetlink requests: ${c}`, s, buf, buf.length, 0);
    return E.isLeft(r) ? r : E.right(undefined);
  };
  const recv = (): E.Either<SysError, Received[]> => {
    const n = ncall('recv', (c) => (c === 'EAGAIN' ? 'no rtnetlink answer within 5 s' : `reading rtnetlink answers: ${c}`), s, rx, rx.length, 0);
    // A copy: messages of a dump outlive the next recv() into rx.
    return E.isLeft(n) ? n : E.right(splitMessages(Buffer.from(rx.subarray(0, n.right))));
  };

  const exchangeChunk = (requests: readonly Request[]): E.Either<SysError, Outcome[]> => {
    const outcomes: (Outcome | undefined)[] = new Array<Outcome | undefined>(requests.length).fill(undefined);
    const bySeq = new Map<number, number>();
    const parts: Buffer[] = [];
    for (const [i, r] of requests.entries()) {
      const n = seq++;
      try {
        parts.push(encodeRequest(r, n));
        bySeq.set(n, i);
      } catch (e) {
        outcomes[i] = { seq: n, errno: 22, message: e instanceof Error ? e.message : String(e), unsent: true };
      }
    }
    if (parts.length > 0) {
      const sent = send(Buffer.concat(parts));
      if (E.isLeft(sent)) return sent;
    }
    let waiting = bySeq.size;
    while (waiting > 0) {
      const got = recv();
      if (E.isLeft(got)) return got;
      for (const m of got.right) {
        const ack = m.type === NLMSG_ERROR ? decodeAck(m) : undefined;
        const i = ack === undefined ? undefined : bySeq.get(ack.seq);
        if (ack === undefined || i === undefined || outcomes[i] !== undefined) continue;
        outcomes[i] = ack;
        waiting -= 1;
      }
    }
    return E.right(outcomes as Outcome[]);
  };

  return E.right({
    fd: s,
    exchange: (requests) => {
      const all: Outcome[] = [];
      for (let i = 0; i < requests.length; i += PIPELINE_DEPTH) {
        const r = exchangeChunk(requests.slice(i, i + PIPELINE_DEPTH));
        if (E.isLeft(r)) return r;
        all.push(...r.right);
      }
      return E.right(all);
    },
    dump: (request) => {
      const n = seq++;
      const sent = send(encodeRequest(request, n));
      if (E.isLeft(sent)) return sent;
      const out: Received[] = [];
      for (;;) {
        const got = recv();
        if (E.isLeft(got)) return got;
        for (const m of got.right) {
          if (m.seq !== n) continue;
          if (isDone(m)) return E.right(out);
          if (m.type === NLMSG_ERROR) {
            const ack = decodeAck(m);
            return E.left({ _tag: 'SyscallFailed', call: 'rtnetlink dump', errno: ack?.errno ?? 0, code: String(ack?.errno), detail: ack?.message ?? `dump of message type ${request._tag === 'Dump' ? request.type : '?'} refused` });
          }
          out.push(m);
        }
      }
    },
    ifindex: (name) => {
      ifr.fill(0);
      const bytes = Buffer.from(name, 'utf8');
      if (bytes.length > 15) return undefined;
      bytes.copy(ifr, 0);
      const r = ncall('ioctlPtr', () => 'SIOCGIFINDEX', s, SIOCGIFINDEX, ifr);
      if (E.isLeft(r)) return undefined;
      return LE ? ifr.readInt32LE(16) : ifr.readInt32BE(16);
    },
    close: () => nclose(s),
  });
};
