import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns, spawnCount } from '@tapwire/sys';
import { makeNetns, requireRoot, sh } from '@tapwire/testkit';
import { classify } from './classify.js';
import { scan } from './scan.js';

test('a scan of 97 links costs no process (rtnetlink; one with source iproute2) and sees every link, address and route', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await makeNetns(t);
  // lo + 48 veth pairs = 97 links, made in one ip process.
  const lines: string[] = [];
  for (let i = 0; i < 48; i++) {
    lines.push(`link add s${i} type veth peer name s${i}p`, `addr add 10.40.${i}.2/24 dev s${i}`, `link set s${i} up`);
  }
  lines.push('route add default via 10.40.0.1 dev s0');
  await sh(['ip', '-n', ns.name, '-batch', '-'], `${lines.join('\n')}\n`);
  const handle = resolveNetns(ns.name);
  if (E.isLeft(handle)) return t.fail(JSON.stringify(handle.left));
  const before = spawnCount();
  const r = await scan(handle.right)();
  const spawns = spawnCount() - before;
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  t.is(r.right.links.length, 97);
  t.is(spawns, 0);
  const viaIp = spawnCount();
  const ip = await scan(handle.right, { source: 'iproute2' })();
  t.is(spawnCount() - viaIp, 1);
  t.is(E.isRight(ip) ? ip.right.links.length : 0, 97);
  t.true(r.right.routes.some((x) => x.dst === 'default' && x.gateway === '10.40.0.1'));
  t.is(r.right.drivers['s7']?.driver, 'veth');
  const eps = classify(r.right);
  t.is(eps.filter((e) => e.kind === 'veth' && e.skipped === undefined).length, 48);
  t.is(eps.filter((e) => e.skipped === 'no addresses').length, 48);
});
