// inspect --dot's renderer on every captured fixture (no root: decode +
// classify the capture, then render), on an attached pod built from a
// fixture plus tapwire's own tap, and through real Graphviz when installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { classify, decodeScanOutput, type Endpoint, type Snapshot } from '@tapwire/endpoints';
import { testLink } from '@tapwire/endpoints/testing';
import { encodeRecord } from '@tapwire/netmodel';
import { requireCommand } from '@tapwire/testkit';
import { dotString, redirectsOf, renderDot, type FilterLike, type WiringInput } from './dot.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const scenarios = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((d) => existsSync(`${FIXTURES}${d}/scan.jsonl`)).sort() : [];

const readJson = <T>(path: string, fallback: T): T => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : fallback);

/** A fixture as inspect --dot would see it: classified endpoints, and the tc filters when the capture has them. */
const wiringOf = (name: string): WiringInput => {
  const dir = `${FIXTURES}${name}/`;
  const docs = readFileSync(`${dir}scan.jsonl`, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const decoded = decodeScanOutput(docs);
  if (E.isLeft(decoded)) throw new Error(`${name}: ${decoded.left.problems.join('; ')}`);
  const snap: Snapshot = {
    ...decoded.right,
    drivers: readJson(`${dir}drivers.json`, {}),
    pci: readJson(`${dir}pci.json`, {}),
    vhostUserSockets: readJson(`${dir}vhost-user.json`, {}),
    tunIds: {},
  };
  const meta = readJson<{ tcBatch?: string[] }>(`${dir}meta.json`, {});
  const tc = existsSync(`${dir}tc.jsonl`) ? readFileSync(`${dir}tc.jsonl`, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
  const filters: Record<string, readonly FilterLike[]> = {};
  (meta.tcBatch ?? []).forEach((line, i) => {
    const dev = /^filter show dev (\S+) ingress$/.exec(line)?.[1];
    if (dev !== undefined) filters[dev] = JSON.parse(tc[i] ?? '[]') as FilterLike[];
  });
  return { netns: `twfx-${name}`, endpoints: classify(snap), filters };
};

const idOf = (name: string): string => dotString(`link:${name}`);

test('fixtures exist', (t) => {
  t.true(scenarios.length >= 10, scenarios.join(', '));
});

for (const name of scenarios) {
  test(`fixture ${name}: every link is drawn, one VM NIC per attachable link, the same text every time`, (t) => {
    const input = wiringOf(name);
    const dot = renderDot(input);
    t.true(dot.startsWith('digraph "tapwire twfx-'), dot.slice(0, 80));
    t.true(dot.trimEnd().endsWith('}'));
    for (const e of input.endpoints) t.true(dot.includes(`${idOf(e.link.name)} [label=`), `${e.link.name} has a node`);
    const attachable = input.endpoints.filter((e) => e.skipped === undefined);
    for (const [i] of attachable.entries()) t.true(dot.includes(`"nic:net${i}" [label="net${i}`), `net${i}`);
    t.false(dot.includes(`"nic:net${attachable.length}"`));
    t.is(renderDot(input), dot);
    // Braces balance outside quoted strings (a label with "{" must not unbalance the graph).
    const unquoted = dot.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    t.is([...unquoted].filter((c) => c === '{').length, [...unquoted].filter((c) => c === '}').length);
  });
}

test('tcfilter fixture: both mirred redirects are edges, veth -> tap and tap -> veth', (t) => {
  const input = wiringOf('tcfilter');
  t.deepEqual(redirectsOf(input.filters), [
    { from: 'twfxtcv0', to: 'twfxtctap0' },
    { from: 'twfxtctap0', to: 'twfxtcv0' },
  ]);
  const dot = renderDot(input);
  t.true(dot.includes(`${idOf('twfxtcv0')} -> ${idOf('twfxtctap0')} [label="tc ingress: mirred redirect"`));
  t.true(dot.includes(`${idOf('twfxtctap0')} -> ${idOf('twfxtcv0')} [label="tc ingress: mirred redirect"`));
});

test('macvtap fixture: the macvtap hangs off its lower device; a parent in another netns is a node outside the pod', (t) => {
  t.true(renderDot(wiringOf('macvtap')).includes(`${idOf('twfxmtp0')} -> ${idOf('twfxmt0')} [label="lower device"`));
  const elsewhere = renderDot(wiringOf('macvlan-parent-elsewhere'));
  t.regex(elsewhere, /"ext:\d+:\d+" -> "link:twfxmf0" \[label="lower device"/);
  t.regex(elsewhere, /other netns \(id \d+\)/);
});

test('an attached link: tapwire\'s tap (its alias names the link) is what becomes net0, reached by the redirect', (t) => {
  const base = wiringOf('veth');
  const veth = base.endpoints.find((e) => e.kind === 'veth');
  if (veth === undefined) return t.fail('the veth fixture has a veth');
  const alias = encodeRecord({ model: 'tcfilter', ifindex: veth.link.ifindex, queues: 2, mac: veth.link.mac ?? '02:00:00:00:00:01', addresses: [], routes: [] });
  const tap: Endpoint = { kind: 'tuntap', link: testLink({ name: 'tw9', ifindex: 9, kind: 'tun', alias, addresses: [] }), reason: 'tap', skipped: `made by tapwire (${alias})`, multiQueue: true, vnetHdr: true, owner: 0, group: 0 };
  const dot = renderDot({
    ...base,
    endpoints: [...base.endpoints, tap],
    filters: { [veth.link.name]: [{ options: { actions: [{ kind: 'mirred', mirred_action: 'redirect', direction: 'egress', to_dev: 'tw9' }] } }] },
  });
  t.true(dot.includes(`${idOf('tw9')} -> "nic:net0" [penwidth=1.5, label="VM NIC for ${veth.link.name}"]`), dot);
  t.true(dot.includes('net0\\ntcfilter: 2 queue fds'));
  t.true(dot.includes('fillcolor="lightyellow"'));
  t.false(dot.includes('becomes (after attach)'));
});

test('names and labels are escaped: quotes, backslashes and newlines cannot break out of a DOT string', (t) => {
  t.is(dotString('a"b\\c\nd\u0001'), '"a\\"b\\\\c\\nd"');
  const odd = renderDot(wiringOf('odd-names'));
  // With every well-formed quoted string removed, no quote is left over on any line.
  for (const line of odd.split('\n')) t.false(line.replace(/"(?:[^"\\]|\\.)*"/g, '').includes('"'), line);
});

test('Graphviz dot -Tsvg accepts the graph of every fixture', (t) => {
  if (!requireCommand(t, 'dot')) return;
  for (const name of scenarios) {
    const r = spawnSync('dot', ['-Tsvg'], { input: renderDot(wiringOf(name)), encoding: 'utf8' });
    t.is(r.status, 0, `${name}: ${r.stderr}`);
    t.regex(r.stdout, /<svg[\s\S]*<\/svg>/, name);
    t.is(r.stderr, '', name);
  }
});
