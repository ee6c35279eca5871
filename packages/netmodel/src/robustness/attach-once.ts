// One attach, as the CLI does it (scan, then attach), started on a "go" line
// on stdin so a test can race two of these. Used by race.test.ts.
//   node attach-once.js <netns> <link> <model> <lock dir> <lock timeout ms>
// Prints "ready", then one JSON line: {"ok":true,"existing":bool} or
// {"ok":false,"tag":..., "message":...}.
import { once } from 'node:events';
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan } from '@tapwire/endpoints';
import { describeSysError, resolveNetns } from '@tapwire/sys';
import { attach } from '../attach.js';
import { describeNetmodelError } from '../errors.js';
import { MODELS, type Model } from '../model.js';

const [spec = '', linkName = '', modelText = '', dir = '', timeout = ''] = process.argv.slice(2);
const ns = resolveNetns(spec);
if (E.isLeft(ns)) throw new Error(describeSysError(ns.left));
if (!(MODELS as readonly string[]).includes(modelText)) throw new Error(`bad model ${modelText}`);
process.stdout.write('ready\n');
await once(process.stdin, 'data');
const snap = await scan(ns.right)();
if (E.isLeft(snap)) throw new Error(JSON.stringify(snap.left));
const ep = classify(snap.right).find((e) => e.link.name === linkName);
if (ep === undefined) throw new Error(`no link ${linkName}`);
const r = await attach(ns.right, ep, modelText as Model, { lock: { dir, timeoutMs: Number(timeout) } })();
process.stdout.write(`${JSON.stringify(E.isRight(r) ? { ok: true, existing: r.right.existing === true } : { ok: false, tag: r.left._tag, cause: r.left._tag === 'Sys' ? r.left.error._tag : undefined, message: describeNetmodelError(r.left) })}\n`);
process.exit(0);
