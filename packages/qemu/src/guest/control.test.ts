// The control channel's host side without a guest: batches are the command
// line's values as lines (checked the same way), the new console reports
// parse, and the console watch finds a report that streams in late.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { parseConsoleLine } from './console.js';
import { consoleWatch, renderControlBatch } from './control.js';

test('a batch is the tapwire.* values as lines, then apply TAG', (t) => {
  const r = renderControlBatch(
    { nics: [{ mac: '02:00:00:00:00:01', addresses: ['10.0.0.2/24'], mtu: 1400 }], routes: [{ dst: '0.0.0.0/0', via: '10.0.0.1' }], ping: ['10.0.0.1'], exactRouting: true },
    'plug-hot1',
  );
  t.deepEqual(r, E.right(['nic 02:00:00:00:00:01,10.0.0.2/24,mtu=1400', 'route 0.0.0.0/0,via=10.0.0.1', 'exact', 'ping 10.0.0.1', 'apply plug-hot1']));
});

test('a batch refuses what the command line refuses, and a bad tag', (t) => {
  const bad = renderControlBatch({ nics: [{ mac: 'ff:ff:ff:ff:ff:ff' }] }, 'x');
  t.true(E.isLeft(bad) && bad.left._tag === 'GuestConfig');
  const tag = renderControlBatch({ nics: [] }, 'no spaces');
  t.true(E.isLeft(tag) && tag.left._tag === 'BadControlValue');
});

test('a batch has no length limit: 48 NICs fit', (t) => {
  const nics = Array.from({ length: 48 }, (_, i) => ({ mac: `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`, addresses: [`10.100.${i}.2/24`, `fd00:${i}::2/64`] }));
  const r = renderControlBatch({ nics }, 'all');
  t.true(E.isRight(r) && r.right.length === 49);
});

test('the control reports parse', (t) => {
  t.deepEqual(parseConsoleLine('TAPWIRE-NIC 02:00:00:00:00:01 up eth1'), E.right({ _tag: 'NicState', mac: '02:00:00:00:00:01', state: 'up', ifname: 'eth1' }));
  t.deepEqual(parseConsoleLine('TAPWIRE-NIC 02:00:00:00:00:01 gone'), E.right({ _tag: 'NicState', mac: '02:00:00:00:00:01', state: 'gone', ifname: undefined }));
  t.deepEqual(parseConsoleLine('TAPWIRE-APPLIED plug-hot1'), E.right({ _tag: 'Applied', tag: 'plug-hot1' }));
  t.deepEqual(parseConsoleLine('TAPWIRE-CONTROL /dev/vport1p1'), E.right({ _tag: 'Control', port: '/dev/vport1p1' }));
  t.true(E.isLeft(parseConsoleLine('TAPWIRE-NIC 02:00:00:00:00:01 sideways')));
  t.true(E.isLeft(parseConsoleLine('TAPWIRE-NIC nomac up eth0')));
});

test('the console watch finds a report split across chunks, and times out on none', async (t) => {
  const w = consoleWatch();
  const waiting = w.waitFor((e) => e._tag === 'Applied', 0, 5000);
  w.feed('noise\nTAPWIRE-APP');
  w.feed('LIED t1\r\n');
  t.deepEqual(await waiting, { _tag: 'Applied', tag: 't1' });
  t.is(await w.waitFor((e) => e._tag === 'Applied' && e.tag === 't2', 0, 50), undefined);
});
