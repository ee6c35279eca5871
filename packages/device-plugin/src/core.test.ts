// The pure core on fixtures: configuration, discovery, health, allocate plans.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { allocatePlan, allocateResponse, envName, releaseCommands } from './allocate.js';
import { parseConfig, toResource } from './config.js';
import { deviceIds, deviceList, healthOf, sameDevices } from './devices.js';
import { describeDevicePluginError } from './errors.js';
import { decodeLinks, discoverResources, type LinkState } from './links.js';

// Trimmed from this machine's `ip -j -d link show` plus a bond, a veth and a macvtap.
const HOST = JSON.stringify([
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], operstate: 'UNKNOWN', link_type: 'loopback' },
  { ifindex: 2, ifname: 'ifb0', operstate: 'DOWN', linkinfo: { info_kind: 'ifb' } },
  { ifindex: 4, ifname: 'eth0', operstate: 'UP', parentbus: 'virtio', parentdev: 'virtio2' },
  { ifindex: 5, ifname: 'bond0', operstate: 'DOWN', linkinfo: { info_kind: 'bond', info_data: { mode: 'active-backup' } } },
  { ifindex: 6, ifname: 'veth1', link: 'veth2', operstate: 'UP', linkinfo: { info_kind: 'veth' } },
  { ifindex: 9, ifname: 'dataMvp1', link: 'eth0', operstate: 'DOWN', linkinfo: { info_kind: 'macvtap', info_data: { mode: 'bridge' } } },
  { ifindex: 10, ifname: 'dataMvp2', link: 'veth1', operstate: 'DOWN', linkinfo: { info_kind: 'macvtap' } },
]);
const links = (): readonly LinkState[] => {
  const r = decodeLinks(HOST);
  if (E.isLeft(r)) throw new Error(describeDevicePluginError(r.left));
  return r.right;
};

test('config: defaults, modes, capacity and the resource name', (t) => {
  const r = parseConfig('[{"name":"dataplane","lowerDevice":"eth0"},{"name":"v","lowerDevice":"bond0","mode":"vepa","capacity":3}]');
  t.deepEqual(r, E.right([
    { resourceName: 'macvtap.network.kubevirt.io/dataplane', name: 'dataplane', lowerDevice: 'eth0', mode: 'bridge', capacity: 100 },
    { resourceName: 'macvtap.network.kubevirt.io/v', name: 'v', lowerDevice: 'bond0', mode: 'vepa', capacity: 3 },
  ]));
  t.deepEqual(parseConfig('[]'), E.right([]));
});

test('config: every problem is named, with where it is', (t) => {
  const bad = (text: string): string => {
    const r = parseConfig(text);
    if (E.isRight(r)) return t.fail(`accepted ${text}`) as never;
    t.is(r.left._tag, 'BadConfig');
    return describeDevicePluginError(r.left);
  };
  t.regex(bad('{'), /bad DP_MACVTAP_CONF: not JSON/);
  t.regex(bad('{"name":"a"}'), /expected an array of resources/);
  const many = bad('[{"name":"a","lowerDevice":"eth0","mode":"bridged","capacity":0},{"lowerDevice":"way-too-long-name0"}]');
  t.regex(many, /DP_MACVTAP_CONF\[0\]\.mode: expected a macvtap mode \(bridge, vepa, private, passthru\), found "bridged"/);
  t.regex(many, /\[0\]\.capacity: expected a whole number of devices from 1 to 1000, found 0/);
  t.regex(many, /\[1\]\.name: expected a resource name/);
  t.regex(many, /\[1\]\.lowerDevice: expected a link name/);
  t.regex(bad('[{"name":"a","lowerDevice":"x"},{"name":"a","lowerDevice":"y"}]'), /"a" appears more than once/);
  t.regex(bad('[{"name":"dataplane12","lowerDevice":"x","capacity":100}]'), /"dataplane12Mvp99", longer than a link name's 15 bytes/);
});

test('links: decoded from ip -j -d; bad output is a DecodeFailed', (t) => {
  t.like(links()[2], { name: 'eth0', physical: true, operstate: 'UP', kind: undefined });
  t.like(links()[5], { name: 'dataMvp1', kind: 'macvtap', lower: 'eth0', physical: false });
  const bad = decodeLinks('[{"ifname":"x"}]');
  t.true(E.isLeft(bad) && bad.left._tag === 'DecodeFailed' && /links\[0\]\.ifindex/.test(bad.left.problems.join()));
});

test('discovery for []: physical links and bonds, never lo/ifb/veth/macvtap; too-long names skipped with a reason', (t) => {
  const d = discoverResources(links());
  t.deepEqual(d.resources.map((r) => [r.resourceName, r.lowerDevice, r.mode, r.capacity]), [
    ['macvtap.network.kubevirt.io/eth0', 'eth0', 'bridge', 100],
    ['macvtap.network.kubevirt.io/bond0', 'bond0', 'bridge', 100],
  ]);
  const long = discoverResources([{ ifindex: 3, name: 'enp0s31f6abc', operstate: 'UP', kind: undefined, lower: undefined, physical: true }]);
  t.deepEqual(long.resources, []);
  t.regex(long.skipped[0] ?? '', /enp0s31f6abcMvp99/);
});

test('health follows the lower device: UP/UNKNOWN healthy, DOWN/LOWERLAYERDOWN/missing not', (t) => {
  const l = (operstate: string): LinkState => ({ ifindex: 1, name: 'x', operstate, kind: undefined, lower: undefined, physical: false });
  t.is(healthOf(l('UP')), 'Healthy');
  t.is(healthOf(l('UNKNOWN')), 'Healthy');
  t.is(healthOf(l('DOWN')), 'Unhealthy');
  t.is(healthOf(l('LOWERLAYERDOWN')), 'Unhealthy');
  t.is(healthOf(undefined), 'Unhealthy');
  const r = toResource('data', 'eth0', 'bridge', 3);
  t.deepEqual(deviceIds(r), ['dataMvp0', 'dataMvp1', 'dataMvp2']);
  const up = deviceList(r, links());
  t.true(up.every((d) => d.health === 'Healthy'));
  const gone = deviceList(r, links().filter((x) => x.name !== 'eth0'));
  t.true(gone.every((d) => d.health === 'Unhealthy'));
  t.false(sameDevices(up, gone));
  t.true(sameDevices(up, deviceList(r, links())));
});

test('allocate plan: a fresh device is added, a leftover of ours is made anew, a stranger is refused', (t) => {
  const r = toResource('data', 'eth0', 'vepa', 3);
  t.deepEqual(allocatePlan(r, [['dataMvp0'], ['dataMvp1']], links()), E.right({
    devices: ['dataMvp0', 'dataMvp1'],
    commands: [
      ['link', 'add', 'link', 'eth0', 'name', 'dataMvp0', 'type', 'macvtap', 'mode', 'vepa'],
      ['link', 'del', 'dev', 'dataMvp1'],
      ['link', 'add', 'link', 'eth0', 'name', 'dataMvp1', 'type', 'macvtap', 'mode', 'vepa'],
    ],
  }));
  const stranger = allocatePlan(r, [['dataMvp2']], links());
  t.true(E.isLeft(stranger) && stranger.left._tag === 'DeviceNameTaken');
  const unknown = allocatePlan(r, [['dataMvp7']], links());
  t.true(E.isLeft(unknown) && describeDevicePluginError(unknown.left) === '"dataMvp7" is not a device of macvtap.network.kubevirt.io/data');
  const noLower = allocatePlan(toResource('data', 'eth9'), [['dataMvp0']], links());
  t.true(E.isLeft(noLower) && noLower.left._tag === 'LowerDeviceMissing');
  // The inverse touches only our macvtaps still in the host.
  t.deepEqual(releaseCommands(r, ['dataMvp0', 'dataMvp1', 'dataMvp2'], links()), [['link', 'del', 'dev', 'dataMvp1']]);
});

test('allocate response: /dev/tap<ifindex> rw per device, and the env var naming them', (t) => {
  const r = toResource('data', 'eth0', 'bridge', 3);
  t.is(envName(r), 'MACVTAP_NETWORK_KUBEVIRT_IO_DATA');
  t.deepEqual(allocateResponse(r, [['dataMvp1']], links()), E.right([
    { envs: { MACVTAP_NETWORK_KUBEVIRT_IO_DATA: 'dataMvp1' }, devices: [{ container_path: '/dev/tap9', host_path: '/dev/tap9', permissions: 'rw' }] },
  ]));
  const vanished = allocateResponse(r, [['dataMvp0']], links());
  t.true(E.isLeft(vanished) && vanished.left._tag === 'DeviceVanished');
});
