// Decode + classify every capture in fixtures/ and compare with what the
// capture script recorded each link should be.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { classify } from './classify.js';
import { decodeScanOutput } from './decode-ip.js';
import type { Snapshot } from './model.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

const readJson = <T>(path: string, fallback: T): T => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : fallback);

interface Meta {
  readonly description: string;
  readonly expect: Readonly<Record<string, string>>;
  readonly expectSkipped?: Readonly<Record<string, string>>;
}

const scenarios = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((d) => existsSync(`${FIXTURES}${d}/scan.jsonl`)) : [];

test('fixtures exist', (t) => {
  t.true(scenarios.length >= 10, `found ${scenarios.join(', ')}`);
});

for (const name of scenarios) {
  test(`fixture ${name}: decodes and classifies as recorded`, (t) => {
    const dir = `${FIXTURES}${name}/`;
    const docs = readFileSync(`${dir}scan.jsonl`, 'utf8').split('\n').filter((l) => l.trim());
    const decoded = decodeScanOutput(docs);
    if (E.isLeft(decoded)) return t.fail(decoded.left.problems.join('\n'));
    const snap: Snapshot = {
      ...decoded.right,
      drivers: readJson(`${dir}drivers.json`, {}),
      pci: readJson(`${dir}pci.json`, {}),
      vhostUserSockets: readJson(`${dir}vhost-user.json`, {}),
      // Captures hold ip's output only; classification does not depend on tun ids.
      tunIds: {},
    };
    const meta = readJson<Meta>(`${dir}meta.json`, { description: '', expect: {} });
    const byName = new Map(classify(snap).map((e) => [e.link.name, e]));
    t.true(Object.keys(meta.expect).length > 0, 'meta.json lists expected kinds');
    for (const [link, kind] of Object.entries(meta.expect)) {
      const e = byName.get(link);
      t.is(String(e?.kind), kind, `${link}: ${e?.reason ?? 'missing'}`);
    }
    for (const [link, why] of Object.entries(meta.expectSkipped ?? {})) {
      t.is(byName.get(link)?.skipped, why, link);
    }
  });
}
