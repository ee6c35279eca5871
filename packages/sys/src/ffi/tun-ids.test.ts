// Tun owner/group read as numbers from the netns's own sysfs, whatever names
// passwd and group have for them.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireRoot } from '@tapwire/testkit';
import { parseTunId, readTunIds } from './tun-ids.js';
import { testNetns } from './testing-netns.js';

test('sysfs ids: "-1" is unset, decimals are ids, anything else is refused by name', (t) => {
  t.deepEqual(parseTunId('x', '-1\n'), E.right(undefined));
  t.deepEqual(parseTunId('x', '65534\n'), E.right(65534));
  t.like(parseTunId('sysfs owner of t0', 'nobody'), { _tag: 'Left', left: { _tag: 'BadInput', what: 'sysfs owner of t0', input: 'nobody' } });
  t.true(E.isLeft(parseTunId('x', '4294967295')));
});

test('owner with a passwd entry, owner without one, group only, neither', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  // uid 0 and 65534 have passwd entries here (root, nobody); 4242 has none.
  await ip('tuntap', 'add', 'dev', 'named', 'mode', 'tap', 'user', '65534');
  await ip('tuntap', 'add', 'dev', 'numeric', 'mode', 'tap', 'user', '4242', 'group', '4243');
  await ip('tuntap', 'add', 'dev', 'grouponly', 'mode', 'tap', 'group', '65534');
  await ip('tuntap', 'add', 'dev', 'open', 'mode', 'tap');
  t.regex(await ip('-j', '-d', 'link', 'show', 'dev', 'named'), /"user":"nobody"/);
  t.deepEqual(readTunIds(ns, ['named', 'numeric', 'grouponly', 'open']), E.right({
    named: { owner: 65534, group: undefined },
    numeric: { owner: 4242, group: 4243 },
    grouponly: { owner: undefined, group: 65534 },
    open: { owner: undefined, group: undefined },
  }));
});

test('a link that is no tun, or is gone, is left out; a bad name is refused before anything runs', async (t) => {
  if (!requireRoot(t)) return;
  const { ns } = await testNetns(t);
  t.deepEqual(readTunIds(ns, ['lo', 'gone0']), E.right({}));
  t.like(readTunIds(ns, ['a/b']), { _tag: 'Left', left: { _tag: 'BadInput', what: 'link name' } });
});
