// Runs actions over one rtnetlink socket, pipelined: consecutive requests go
// out in one send(), then their acks come back. A tap is made with the tun
// ioctls, not rtnetlink, at once: queued requests are sent first only when
// one of them names that device or deletes a group (a delete before a
// re-create), since nothing else can see the order. So a merged plan's 64
// taps cost no round trip of their own. Every action gets its own outcome,
// so the caller knows exactly what took effect.
// Synchronous: call it inside withNetnsSync (the tun device and the socket
// must be made in the netns).
import * as E from 'fp-ts/lib/Either.js';
import { netlink, type SysError } from '@tapwire/sys';
import { argvOf, devicesOf, toolOf, type Action } from './action.js';
import { renderCommand } from './render.js';
import { requestOf } from './netlink-requests.js';

export type ActionOutcome = { readonly ok: true } | { readonly ok: false; readonly cause: SysError };

const failed = (a: Action, errno: number, code: string, message: string | undefined): ActionOutcome => ({
  ok: false,
  cause: { _tag: 'SyscallFailed', call: 'rtnetlink', errno, code, detail: `${renderCommand(toolOf(a), argvOf(a))}${message === undefined ? '' : `: ${message}`}` },
});

const errnoCode = (n: number): string => netlink.errnoName(n);

export const runActions = (sock: netlink.NetlinkSocket, actions: readonly Action[]): ActionOutcome[] => {
  const outcomes: (ActionOutcome | undefined)[] = new Array<ActionOutcome | undefined>(actions.length).fill(undefined);
  let pending: { i: number; req: netlink.Request }[] = [];
  // What the queued requests name, and whether one deletes a group (any name): what a new tap must wait for.
  let queuedNames = new Set<string>();
  let queuedGroupDelete = false;
  const flush = (): void => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    queuedNames = new Set();
    queuedGroupDelete = false;
    const r = sock.exchange(batch.map((p) => p.req));
    for (const [k, p] of batch.entries()) {
      const a = actions[p.i] as Action;
      if (E.isLeft(r)) {
        outcomes[p.i] = { ok: false, cause: r.left };
        continue;
      }
      const o = r.right[k];
      outcomes[p.i] = o === undefined || o.errno === 0 ? { ok: true } : failed(a, o.errno, errnoCode(o.errno), o.message);
    }
  };
  // A name made earlier in this batch is resolvable only once the batch is sent.
  const resolve = (name: string): number | undefined => {
    const i = sock.ifindex(name);
    if (i !== undefined || pending.length === 0) return i;
    flush();
    return sock.ifindex(name);
  };
  for (const [i, a] of actions.entries()) {
    if (a._tag === 'TapAdd') {
      if (queuedGroupDelete || queuedNames.has(a.name)) flush();
      const made = netlink.createPersistentTap({ name: a.name, vnetHdr: true, multiQueue: a.multiQueue, ...(a.owner === undefined ? {} : { owner: a.owner }), ...(a.group === undefined ? {} : { group: a.group }) });
      outcomes[i] = E.isRight(made) ? { ok: true } : { ok: false, cause: made.left };
      continue;
    }
    const req = requestOf(a, resolve);
    if (E.isLeft(req)) outcomes[i] = failed(a, req.left.errno, errnoCode(req.left.errno), req.left.message);
    else {
      pending.push({ i, req: req.right });
      for (const d of devicesOf(a)) queuedNames.add(d);
      queuedGroupDelete ||= a._tag === 'LinkDelGroup';
    }
  }
  flush();
  return outcomes as ActionOutcome[];
};

/** Runs actions inside the netns on a socket opened for them. */
export const withNetlink = <T>(run: (sock: netlink.NetlinkSocket) => T): E.Either<SysError, T> => {
  const sock = netlink.openNetlinkSocket();
  if (E.isLeft(sock)) return sock;
  try {
    return E.right(run(sock.right));
  } finally {
    sock.right.close();
  }
};
