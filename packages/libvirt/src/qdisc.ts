// libvirt puts a `noqueue` root qdisc on every tap/macvtap it opens, also with
// managed='no', and never takes it off. The NIC devices' root qdiscs are read
// before the domain starts; after it is gone, a root that became noqueue is
// deleted again, which gives the device back its default root (mq, or
// pfifo_fast), as the netns had it. One tc spawn to read, one to restore.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { run, runBatch, type NetnsHandle } from '@tapwire/sys';
import { sysError, type LibvirtError } from './errors.js';

const QdiscC = t.intersection([t.type({ kind: t.string, dev: t.string }), t.partial({ root: t.boolean, parent: t.string })]);
const QdiscsC = t.array(QdiscC);

/** Root qdisc kind per device ('' for a device with none listed). */
export type RootQdiscs = ReadonlyMap<string, string>;

export const rootQdiscsOf = (json: string): E.Either<string, RootQdiscs> => {
  let doc: unknown;
  try {
    doc = JSON.parse(json === '' ? '[]' : json);
  } catch (e) {
    return E.left(`tc -j qdisc show: not JSON (${String(e)})`);
  }
  const d = QdiscsC.decode(doc);
  if (E.isLeft(d)) return E.left(`tc -j qdisc show: ${PathReporter.report(d).slice(0, 2).join('; ')}`);
  return E.right(new Map(d.right.filter((q) => q.root === true).map((q) => [q.dev, q.kind])));
};

export const readRootQdiscs =
  (ns: NetnsHandle): TE.TaskEither<LibvirtError, RootQdiscs> =>
  async () => {
    const r = await run(['tc', '-j', 'qdisc', 'show'], { netns: ns })();
    if (E.isLeft(r)) return E.left(sysError(r.left));
    return E.mapLeft((detail: string): LibvirtError => sysError({ _tag: 'BadInput', what: 'tc -j qdisc show', input: r.right.stdout.slice(0, 200), expected: detail }))(
      rootQdiscsOf(r.right.stdout),
    );
  };

/** Devices whose root libvirt turned into noqueue (pure). */
export const noqueueAdded = (before: RootQdiscs, after: RootQdiscs, devices: readonly string[]): string[] =>
  devices.filter((d) => after.get(d) === 'noqueue' && before.has(d) && before.get(d) !== 'noqueue');

export const restoreRootQdiscs =
  (ns: NetnsHandle, before: RootQdiscs, devices: readonly string[]): TE.TaskEither<LibvirtError, string[]> =>
  async () => {
    const after = await readRootQdiscs(ns)();
    if (E.isLeft(after)) return after;
    const added = noqueueAdded(before, after.right, devices);
    const r = await runBatch(ns, 'tc', added.map((d) => ['qdisc', 'del', 'dev', d, 'root']))();
    return E.isLeft(r) ? E.left(sysError(r.left)) : E.right(added);
  };
