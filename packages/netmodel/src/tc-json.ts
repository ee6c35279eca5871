// io-ts codecs for `tc -j qdisc show` and `tc -j filter show dev X ingress`;
// only the fields tapwire reads are required.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { reportDecodeErrors, type DecodeError } from '@tapwire/endpoints';

const TcQdisc = t.intersection([
  t.type({ kind: t.string, handle: t.string }),
  t.partial({ dev: t.string, parent: t.string, root: t.boolean }),
], 'qdisc');
export type TcQdisc = t.TypeOf<typeof TcQdisc>;

const TcAction = t.partial({ kind: t.string, to_dev: t.string, direction: t.string, mirred_action: t.string }, 'action');

const TcFilter = t.partial({
  parent: t.string,
  protocol: t.string,
  pref: t.number,
  kind: t.string,
  chain: t.number,
  options: t.partial({ fh: t.string, actions: t.array(TcAction) }),
}, 'filter');
export type TcFilter = t.TypeOf<typeof TcFilter>;

const decode = <A>(input: string, codec: t.Type<A, unknown, unknown>, text: string | undefined): E.Either<DecodeError, A> => {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch (e) {
    return E.left({ _tag: 'DecodeError', input, problems: [`${input}: not JSON (${(e as Error).message})`] });
  }
  return E.mapLeft((errs: t.Errors): DecodeError => ({ _tag: 'DecodeError', input, problems: reportDecodeErrors(input, errs) }))(codec.decode(raw));
};

export const decodeQdiscs = (text: string | undefined): E.Either<DecodeError, readonly TcQdisc[]> =>
  decode('tc qdisc show', t.array(TcQdisc, 'qdiscs'), text);

export const decodeFilters = (dev: string, text: string | undefined): E.Either<DecodeError, readonly TcFilter[]> =>
  decode(`tc filter show dev ${dev} ingress`, t.array(TcFilter, 'filters'), text);

/** A u32 filter's mirred redirect target, when it has one. */
export const redirectTarget = (f: TcFilter): string | undefined =>
  f.options?.actions?.find((a) => a.kind === 'mirred' && a.mirred_action === 'redirect' && a.direction === 'egress')?.to_dev;

export const isIngress = (q: TcQdisc): boolean => q.kind === 'ingress' || q.kind === 'clsact';
