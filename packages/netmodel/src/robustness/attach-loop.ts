// A process to kill: attaches and detaches one link in a loop, alternating
// tcfilter and macvtap, until killed. Used by kill.test.ts.
//   node attach-loop.js <netns> <link>
// Prints "ready" when set up (nothing changed yet) and starts on a line
// "go" on stdin, so a test can start the next one while it checks the last;
// then prints "cycle N" per cycle. Any failure exits 2 with the error on
// stderr (the test then fails).
import { once } from 'node:events';
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan } from '@tapwire/endpoints';
import { describeSysError, resolveNetns } from '@tapwire/sys';
import { attach } from '../attach.js';
import { detach } from '../detach.js';
import { describeNetmodelError } from '../errors.js';
import type { Model } from '../model.js';

const main = async (spec: string | undefined, linkName: string | undefined): Promise<string> => {
  if (spec === undefined || linkName === undefined) return 'usage: attach-loop <netns> <link>';
  const ns = resolveNetns(spec);
  if (E.isLeft(ns)) return describeSysError(ns.left);
  const snap = await scan(ns.right)();
  if (E.isLeft(snap)) return `scan: ${JSON.stringify(snap.left)}`;
  const ep = classify(snap.right).find((e) => e.link.name === linkName);
  if (ep === undefined) return `no link ${linkName}`;
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  for (let i = 0; ; i++) {
    const model: Model = i % 2 === 0 ? 'tcfilter' : 'macvtap';
    const a = await attach(ns.right, ep, model)();
    if (E.isLeft(a)) return `attach ${model}: ${describeNetmodelError(a.left)}`;
    const d = await detach(ns.right, linkName)();
    if (E.isLeft(d)) return `detach ${model}: ${describeNetmodelError(d.left)}`;
    process.stdout.write(`cycle ${i}\n`);
  }
};

const failure = await main(process.argv[2], process.argv[3]);
process.stderr.write(`attach-loop: ${failure}\n`);
process.exit(2);
