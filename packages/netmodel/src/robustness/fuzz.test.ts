// Property tests of netmodel's pure parts over arbitrary inputs: nothing
// throws, every answer is a typed Either, and whatever plan accepts is
// something detach can read back.
import test from 'ava';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { ENDPOINT_KINDS, type Endpoint, type Link, type Route } from '@tapwire/endpoints';
import { arbLink, maybe, realMac, word } from '@tapwire/endpoints/testing';
import { describeNetmodelError, type PlanError } from '../errors.js';
import { halfMadeDevices } from '../half-made.js';
import { findAttachments } from '../inventory.js';
import { mergePhases } from '../merge.js';
import { MAX_ALIAS_BYTES, MAX_QUEUES, MODELS, MTU_RANGE, type Model, type Plan } from '../model.js';
import { parseQueues, validateTapName } from '../names.js';
import { plan, type PlanOptions } from '../plan.js';
import { decodeRecord, encodeRecord, type AttachRecord } from '../record.js';
import { renderPlan, renderUndo } from '../render.js';
import type { NetnsView } from '../state.js';
import { decodeFilters, decodeQdiscs } from '../tc-json.js';

const RUNS = { numRuns: 2000 };
const PLAN_ERROR_TAGS: readonly PlanError['_tag'][] = ['BadQueues', 'BadTapName', 'BadModel', 'ModelNotSupported', 'PassThroughOnly', 'NotAttachable', 'QueuesNotSupported', 'MtuNotSupported', 'AliasTooLong', 'NotEncodable'];

const arbEndpoint: fc.Arbitrary<Endpoint> = fc
  .record({
    kind: fc.constantFrom(...ENDPOINT_KINDS),
    link: arbLink,
    reason: fc.string(),
    skipped: fc.option(fc.string(), { nil: undefined }),
    multiQueue: fc.boolean(),
    vnetHdr: fc.boolean(),
    linkKind: fc.string(),
    socket: fc.string(),
    pci: fc.record({ bdf: fc.string(), driver: fc.string(), vendor: fc.constant(undefined), device: fc.constant(undefined), boundDriver: fc.constant(undefined) }),
  })
  .map((e) => e as unknown as Endpoint);

const arbRoute: fc.Arbitrary<Route> = fc.record({
  dst: maybe(fc.oneof(fc.constant('default'), fc.ipV4().map((a) => `${a}/24`)), fc.string()),
  gateway: fc.option(maybe(fc.ipV4(), fc.string()), { nil: undefined }),
  dev: fc.option(fc.oneof(word, fc.string()), { nil: undefined }),
  table: fc.option(fc.constantFrom('main', 'local', '100', 'weird table'), { nil: undefined }),
  type: fc.option(fc.constantFrom('unicast', 'blackhole', 'local'), { nil: undefined }),
  protocol: fc.option(fc.constantFrom('kernel', 'boot', 'static', 'dhcp'), { nil: undefined }),
  scope: fc.option(fc.constantFrom('link', 'global', 'host'), { nil: undefined }),
  prefsrc: fc.option(fc.ipV4(), { nil: undefined }),
  metric: fc.option(maybe(fc.nat(), fc.double()), { nil: undefined }),
  family: fc.constantFrom('inet' as const, 'inet6' as const),
});

const arbOptions: fc.Arbitrary<PlanOptions> = fc.record(
  {
    queues: maybe(fc.integer({ min: 0, max: MAX_QUEUES + 2 }), fc.oneof(fc.integer(), fc.double())),
    tapName: maybe(word, fc.string({ maxLength: 20 })),
    routes: fc.array(arbRoute, { maxLength: 5 }),
  },
  { requiredKeys: [] },
);

const arbModel: fc.Arbitrary<Model> = fc.oneof(fc.constantFrom(...MODELS), fc.string().map((s) => s as Model));

/** What a Right plan must satisfy to be safe to apply and to detach. */
const wellFormed = (p: Plan): string | undefined => {
  if (p.model === 'none') return p.phases.length === 0 && p.alias === undefined ? undefined : 'model none changes something';
  if (E.isLeft(validateTapName(p.tapName)) || p.tapName === p.link) return `bad tap name ${JSON.stringify(p.tapName)}`;
  if (!(Number.isInteger(p.queues) && p.queues >= 1 && p.queues <= MAX_QUEUES)) return `bad queues ${p.queues}`;
  if (p.alias === undefined || Buffer.byteLength(p.alias) > MAX_ALIAS_BYTES) return 'alias missing or too long';
  if (!(p.mtu >= MTU_RANGE[p.device].min && p.mtu <= MTU_RANGE[p.device].max)) return `MTU ${p.mtu} out of the ${p.device}'s range`;
  const back = decodeRecord(p.alias);
  if (E.isLeft(back)) return `detach cannot read the record: ${back.left}`;
  if (back.right.model !== p.model || back.right.ifindex !== p.ifindex || back.right.queues !== p.queues || back.right.mac !== p.guestMac) return 'record differs from the plan';
  const ops = p.phases.flatMap((ph) => ph.ops);
  if (ops.length === 0 || p.phases.some((ph) => ph.tool !== 'ip' && ph.tool !== 'tc')) return 'no ops or a bad tool';
  // The record goes on by the second line, before anything touches the endpoint.
  if (p.phases[0]?.ops[1]?.argv.join(' ') !== `link set dev ${p.tapName} alias ${p.alias}`) return 'the record is not the second line';
  if (ops.some((o) => o.argv.length === 0 || o.argv.some((w) => typeof w !== 'string' || w.includes('\n')))) return 'an argv word is not a one-line string';
  return undefined;
};

test('fuzz: plan over arbitrary endpoints, models and options never throws and answers a typed Either; a Right plan is one detach can undo', (t) => {
  fc.assert(
    fc.property(arbEndpoint, arbModel, arbOptions, (e, model, opts) => {
      const r = plan(e, model, opts);
      if (E.isLeft(r)) {
        if (!PLAN_ERROR_TAGS.includes(r.left._tag)) return false;
        return describeNetmodelError(r.left).length > 0;
      }
      const bad = wellFormed(r.right);
      if (bad !== undefined) throw new Error(bad);
      renderPlan(r.right);
      renderUndo(r.right);
      // Pure: the same input plans the same commands.
      return JSON.stringify(plan(e, model, opts)) === JSON.stringify(r);
    }),
    RUNS,
  );
  t.pass();
});

test('fuzz: merging plans keeps every op once, each plan\'s order, and phase k after phase k-1', (t) => {
  const arbPlans = fc.array(fc.tuple(arbEndpoint, fc.constantFrom<Model>('tcfilter', 'macvtap')), { maxLength: 6 }).map((xs) =>
    xs.flatMap(([e, m]) => {
      const p = plan(e, m);
      return E.isRight(p) ? [p.right] : [];
    }),
  );
  fc.assert(
    fc.property(arbPlans, (plans) => {
      const merged = mergePhases(plans).flatMap((ph) => ph.ops.map((o) => ({ tool: ph.tool, o })));
      if (merged.length !== plans.reduce((n, p) => n + p.phases.reduce((m, ph) => m + ph.ops.length, 0), 0)) return false;
      return plans.every((p) => {
        const own = p.phases.flatMap((ph) => ph.ops.map((o) => ({ tool: ph.tool, o })));
        const seen = merged.filter((x) => own.some((y) => y.o === x.o));
        return seen.length === own.length && seen.every((x, i) => x.o === own[i]?.o && x.tool === own[i]?.tool);
      });
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('fuzz: parseQueues over arbitrary strings: a Right exactly for 1-5 digits meaning 1..256', (t) => {
  const digits = fc.stringMatching(/^[0-9]{1,7}$/);
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), digits), (text) => {
      const r = parseQueues(text);
      const expected = /^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_QUEUES;
      if (E.isRight(r)) return expected && r.right === Number(text);
      return !expected && r.left._tag === 'BadQueues' && r.left.input === text;
    }),
    RUNS,
  );
  t.pass();
});

test('fuzz: validateTapName over arbitrary strings never throws; a Right is 1-15 bytes without / : or whitespace', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' })), (name) => {
      const r = validateTapName(name);
      const bytes = Buffer.byteLength(name);
      const ok = bytes >= 1 && bytes <= 15 && name !== '.' && name !== '..' && !/[/:\s]/u.test(name);
      return E.isRight(r) === ok;
    }),
    RUNS,
  );
  t.pass();
});

test('fuzz: decodeRecord over arbitrary aliases never throws; encode then decode gives the record back', (t) => {
  fc.assert(fc.property(fc.oneof(fc.string(), fc.string().map((s) => `tapwire:${s}`), fc.string().map((s) => `tapwire:1,${s}`)), (alias) => E.isLeft(decodeRecord(alias)) || E.isRight(decodeRecord(alias))), RUNS);
  const arbRecord: fc.Arbitrary<AttachRecord> = fc.record({
    model: fc.constantFrom('tcfilter' as const, 'macvtap' as const),
    ifindex: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    queues: fc.integer({ min: 1, max: MAX_QUEUES }),
    mac: realMac,
    addresses: fc.array(fc.array(word, { minLength: 1, maxLength: 4 }), { maxLength: 3 }),
    routes: fc.array(fc.array(word, { minLength: 1, maxLength: 4 }), { maxLength: 3 }),
  });
  fc.assert(
    fc.property(arbRecord, (r) => {
      const expected = r.model === 'macvtap' ? r : { ...r, addresses: [], routes: [] };
      return JSON.stringify(decodeRecord(encodeRecord(r))) === JSON.stringify(E.right(expected));
    }),
    RUNS,
  );
  t.pass();
});

test('fuzz: the tc decoders over arbitrary text and JSON answer an Either, never throw', (t) => {
  const text = fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.constant(undefined));
  fc.assert(
    fc.property(text, fc.string(), (s, dev) => {
      const q = decodeQdiscs(s);
      const f = decodeFilters(dev, s);
      return (E.isRight(q) || q.left._tag === 'DecodeError') && (E.isRight(f) || f.left._tag === 'DecodeError');
    }),
    RUNS,
  );
  t.pass();
});

test('fuzz: inventory over arbitrary netns views never throws', (t) => {
  const arbView: fc.Arbitrary<NetnsView> = fc.record({
    links: fc.array(arbLink, { maxLength: 6 }),
    routes: fc.array(arbRoute, { maxLength: 4 }),
    qdiscs: fc.array(fc.record({ kind: fc.constantFrom('ingress', 'noqueue', 'clsact'), handle: fc.string(), dev: fc.option(fc.string(), { nil: undefined }) }, { requiredKeys: ['kind', 'handle'] }), { maxLength: 4 }),
    filters: fc.dictionary(fc.string(), fc.array(fc.record({ kind: fc.string() }, { requiredKeys: [] }), { maxLength: 2 })),
    inDetachGroup: fc.array(fc.string(), { maxLength: 3 }),
  });
  fc.assert(
    fc.property(arbView, (v) => {
      findAttachments(v);
      halfMadeDevices(v);
      return true;
    }),
    RUNS,
  );
  t.pass();
});
