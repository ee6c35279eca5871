import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { daemonFstab, devFstab, groupWithQemuGroup, passwdWithQemuUser, QEMU_CONF, renderFstab } from './config.js';
import { noqueueAdded, rootQdiscsOf } from './qdisc.js';

test('passwd/group get libvirt-qemu once, and only when missing', (t) => {
  const p = passwdWithQemuUser('root:x:0:0:root:/root:/bin/bash');
  t.regex(p, /\nlibvirt-qemu:x:64055:64055:/);
  t.is(passwdWithQemuUser(p), p);
  t.is(groupWithQemuGroup('root:x:0:\n'), 'root:x:0:\nlibvirt-qemu:x:64055:\n');
  t.is(groupWithQemuGroup('libvirt-qemu:x:1:\n'), 'libvirt-qemu:x:1:\n');
});

test('qemu.conf: what the private daemon needs without systemd, virtlogd or a QEMU user', (t) => {
  for (const line of ['user = "root"', 'dynamic_ownership = 0', 'stdio_handler = "file"', 'namespaces = []', 'cgroup_controllers = []']) t.true(QEMU_CONF.includes(line), line);
});

test('fstab: netns sysfs first, caps cache bound before var, blanks escaped', (t) => {
  const tab = renderFstab(daemonFstab({ workDir: '/tmp/w', capsCacheDir: '/var/cache/x y', files: [{ host: '/img/vmlinux', inside: '/run/tapwire/kernel' }] }));
  const lines = tab.trim().split('\n');
  t.is(lines[0], 'tapwire-sysfs /sys sysfs nosuid,nodev,noexec 0 0');
  t.true(lines.indexOf('/var/cache/x\\040y /tmp/w/var/cache/libvirt/qemu none bind 0 0') < lines.indexOf('/tmp/w/var /var none rbind 0 0'));
  t.is(lines.at(-1), '/img/vmlinux /run/tapwire/kernel none bind,ro 0 0');
  t.is(renderFstab(devFstab('/tmp/w')), 'tapwire-dev /dev overlay lowerdir=/dev,upperdir=/tmp/w/dev-upper,workdir=/tmp/w/dev-work 0 0\n');
});

test('root qdiscs: libvirt noqueue found only where it was not before', (t) => {
  const before = rootQdiscsOf('[{"kind":"mq","handle":"0:","dev":"tw2","root":true},{"kind":"pfifo_fast","dev":"tw2","parent":":1"},{"kind":"noqueue","dev":"eth0","root":true}]');
  const after = rootQdiscsOf('[{"kind":"noqueue","handle":"8002:","dev":"tw2","root":true},{"kind":"noqueue","dev":"eth0","root":true}]');
  if (E.isLeft(before) || E.isLeft(after)) return t.fail('decode');
  t.deepEqual(noqueueAdded(before.right, after.right, ['tw2', 'eth0', 'gone']), ['tw2']);
  t.true(E.isLeft(rootQdiscsOf('[{"kind":1}]')));
});
