// What QEMU writes on a QMP socket (docs/interop/qmp-spec.rst), one JSON
// object a line: a greeting first, then for every command either a return or
// an error (carrying the command's id back), and asynchronous events anywhere
// in between.
import * as t from 'io-ts';

/** Any JSON value, but the key must be there: t.unknown would also pass `{}` as a return. */
const Present = new t.Type<unknown>(
  'present',
  (u): u is unknown => u !== undefined,
  (u, c) => (u === undefined ? t.failure(u, c, 'missing') : t.success(u)),
  t.identity,
);

const Id = t.partial({ id: t.unknown });

export const QmpGreeting = t.type(
  {
    QMP: t.type({
      version: t.type({ qemu: t.type({ major: t.number, minor: t.number, micro: t.number }) }),
      capabilities: t.array(t.unknown),
    }),
  },
  'QMP greeting',
);

export type QmpGreeting = t.TypeOf<typeof QmpGreeting>;

export const QmpReturn = t.intersection([t.type({ return: Present }), Id], 'QMP return');

export const QmpErrorReply = t.intersection([t.type({ error: t.type({ class: t.string, desc: t.string }) }), Id], 'QMP error');

export const QmpEvent = t.intersection(
  [t.type({ event: t.string, timestamp: t.type({ seconds: t.number, microseconds: t.number }) }), t.partial({ data: t.unknown })],
  'QMP event',
);
export type QmpEvent = t.TypeOf<typeof QmpEvent>;

export const QmpMessage = t.union([QmpGreeting, QmpReturn, QmpErrorReply, QmpEvent], 'QMP message');
export type QmpMessage = t.TypeOf<typeof QmpMessage>;

export const QmpStatus = t.type({ status: t.string, running: t.boolean }, 'query-status reply');
export type QmpStatus = t.TypeOf<typeof QmpStatus>;
