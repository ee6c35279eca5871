// Who may attach queues to a tap tapwire makes. The kernel lets any process in
// the netns that can open /dev/net/tun (0666 on stock Debian) attach a queue
// of a persistent tap with neither owner nor group - and read or inject the
// VM's traffic. So a tap gets an owner and group by default: the effective
// uid/gid of the process that plans it, which is the VMM's user when tapwire
// launches it. The kernel then lets in that uid (and, with a group, only when
// it is also in that group) or CAP_NET_ADMIN, and refuses everyone else.
import * as E from 'fp-ts/lib/Either.js';
import type { PlanError } from './errors.js';
import type { Model } from './model.js';

/** An id, or null: deliberately none (anyone who can open /dev/net/tun may attach). */
export type TapId = number | null;

export interface Ownership {
  readonly owner: number | undefined;
  readonly group: number | undefined;
}

const MAX_ID = 2 ** 32 - 2;

/** This process's effective uid/gid: the default owner and group of a tap. */
export const processOwnership = (): Ownership => ({ owner: process.geteuid?.(), group: process.getegid?.() });

const checkId = (field: 'owner' | 'group', id: TapId | undefined, model: Model): E.Either<PlanError, number | undefined> => {
  if (id === undefined || id === null) return E.right(undefined);
  if (!(Number.isInteger(id) && id >= 0 && id <= MAX_ID)) return E.left({ _tag: 'BadOwnership', field, input: String(id), expected: 'a uid/gid from 0 to 4294967294' });
  if (model !== 'tcfilter') return E.left({ _tag: 'BadOwnership', field, input: String(id), expected: `no ${field}: only model tcfilter creates a tap it can own` });
  return E.right(id);
};

/**
 * The tap's owner and group. Neither given: the process's uid and gid (model
 * tcfilter only; a macvtap's queues are opened by tapwire through a private
 * node). Either given: exactly what was given (the kernel wants both when both
 * are set, so a lone --tap-owner does not pull in a default group).
 */
export const resolveOwnership = (model: Model, owner: TapId | undefined, group: TapId | undefined, defaults: () => Ownership = processOwnership): E.Either<PlanError, Ownership> => {
  const o = checkId('owner', owner, model);
  if (E.isLeft(o)) return o;
  const g = checkId('group', group, model);
  if (E.isLeft(g)) return g;
  if (model !== 'tcfilter') return E.right({ owner: undefined, group: undefined });
  if (owner === undefined && group === undefined) return E.right(defaults());
  return E.right({ owner: o.right, group: g.right });
};

/** Parses --tap-owner/--tap-group: a decimal id, or "none". */
export const parseTapId = (field: 'owner' | 'group', text: string): E.Either<PlanError, TapId> => {
  if (text === 'none') return E.right(null);
  const n = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  return n <= MAX_ID ? E.right(n) : E.left({ _tag: 'BadOwnership', field, input: text, expected: 'a uid/gid from 0 to 4294967294, or none' });
};
