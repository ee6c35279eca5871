import { readdirSync } from 'node:fs';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { spawnCount } from '../exec.js';
import { readDriverInfo } from './ethtool.js';
import { handleAt, testNetns } from './testing-netns.js';

/** driver and bus-info as `ethtool -i` prints them, or undefined when it cannot tell. */
const ethtoolI = async (argvPrefix: readonly string[], name: string): Promise<{ driver: string; busInfo: string } | undefined> => {
  try {
    const out = await sh([...argvPrefix, 'ethtool', '-i', name]);
    const field = (k: string) => new RegExp(`^${k}: ?(.*)$`, 'm').exec(out)?.[1] ?? '';
    return { driver: field('driver'), busInfo: field('bus-info') };
  } catch {
    return undefined;
  }
};

test('veth, tap and tun answer inside the netns; lo and missing links are absent', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  await ip('tuntap', 'add', 'dev', 'tp0', 'mode', 'tap');
  await ip('tuntap', 'add', 'dev', 'tn0', 'mode', 'tun');
  const spawns = spawnCount();
  const r = readDriverInfo(ns, ['lo', 'va', 'vb', 'tp0', 'tn0', 'nosuch']);
  t.is(spawnCount(), spawns);
  t.deepEqual(r, E.right({
    va: { driver: 'veth', busInfo: '' },
    vb: { driver: 'veth', busInfo: '' },
    tp0: { driver: 'tun', busInfo: 'tap' },
    tn0: { driver: 'tun', busInfo: 'tun' },
  }));
});

test('answers agree with ethtool -i run inside the netns', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'ethtool')) return;
  const { ns, ip } = await testNetns(t);
  await ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  await ip('tuntap', 'add', 'dev', 'tp0', 'mode', 'tap');
  const names = ['va', 'tp0'];
  const r = readDriverInfo(ns, names);
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  for (const n of names) t.deepEqual(r.right[n], await ethtoolI(['ip', 'netns', 'exec', ns.spec], n), n);
});

test('host links agree with ethtool -i (a PCI NIC reports its BDF)', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'ethtool')) return;
  const host = handleAt('host', '/proc/self/ns/net');
  const names = readdirSync('/sys/class/net');
  const r = readDriverInfo(host, names);
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  for (const n of names) {
    const expected = await ethtoolI([], n);
    // ethtool prints nothing useful for links without drvinfo (lo).
    t.deepEqual(r.right[n], expected?.driver === '' ? undefined : expected, n);
  }
  const eth0 = r.right['eth0'];
  if (eth0 !== undefined && /^[0-9a-f]{4}:/.test(eth0.busInfo)) t.regex(eth0.busInfo, /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
});

test('names are UTF-8 bytes: a multibyte name and __proto__ work', async (t) => {
  if (!requireRoot(t)) return;
  const { ns, ip } = await testNetns(t);
  await ip('link', 'add', 'vé-ñ', 'type', 'veth', 'peer', 'name', '__proto__');
  const r = readDriverInfo(ns, ['vé-ñ', '__proto__']);
  if (E.isLeft(r)) return t.fail(JSON.stringify(r.left));
  t.deepEqual(r.right['vé-ñ'], { driver: 'veth', busInfo: '' });
  t.true(Object.hasOwn(r.right, '__proto__'));
  t.deepEqual(r.right['__proto__'], { driver: 'veth', busInfo: '' });
});

test('bad names are refused before entering the netns', (t) => {
  const ns = { spec: 'never-entered', path: '/nonexistent', inode: 0 };
  for (const bad of ['', 'a/b', 'a b', 'a:b', 'a\tb', '.', '..', 'x'.repeat(16), 'àéîõü12', 'a\0b', '\ud800']) {
    t.like(readDriverInfo(ns, ['ok', bad]), { _tag: 'Left', left: { _tag: 'BadInput', what: 'link name', input: bad } }, JSON.stringify(bad));
  }
  t.deepEqual(readDriverInfo(ns, []), E.right({}));
});
