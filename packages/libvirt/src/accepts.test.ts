// libvirt itself accepts what renderLibvirtDomain writes: a private daemon
// (in a throwaway netns) turns the XML into QEMU's command line with
// `virsh domxml-to-native qemu-argv`, for every NIC kind libvirt can take
// here (a VFIO hostdev needs a real function bound to vfio-pci: none here).
import { writeFileSync } from 'node:fs';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';
import { describeRenderError, renderLibvirtDomain, type NicSpec } from '@tapwire/vm';
import { startPrivateDaemon } from './daemon.js';
import { describeLibvirtError } from './errors.js';
import { virsh } from './virsh.js';

const nics: NicSpec[] = [
  { id: 'net0', link: 'eth0', mac: '02:00:00:00:00:01', mtu: 1500, queues: 1, backend: { kind: 'tap', device: 'tw2', ifindex: 5, multiQueue: false, vnetHdr: true } },
  { id: 'net1', link: 'eth1', mac: '02:00:00:00:00:02', mtu: 9000, queues: 2, backend: { kind: 'tap', device: 'tw3', ifindex: 6, multiQueue: true, vnetHdr: true }, pciAddress: '00:05.0' },
  { id: 'net2', link: 'net1', mac: '02:00:00:00:00:03', mtu: 1500, queues: 2, backend: { kind: 'macvtap', device: 'mvt0', ifindex: 4 } },
  { id: 'net3', link: 'eth2', mac: '02:00:00:00:00:04', mtu: 1500, queues: 2, backend: { kind: 'vhost-user', socket: '/tmp/vhostuser_x/vhu.sock' } },
];

test('libvirtd 9 validates and keeps every NIC of the rendered domain, and turns it into a QEMU command line', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'libvirtd') || !requireCommand(t, 'virsh')) return;
  const netns = await makeNetns(t, 'twlva');
  const ns = resolveNetns(netns.name);
  if (E.isLeft(ns)) return t.fail(JSON.stringify(ns.left));
  const daemon = await startPrivateDaemon(ns.right)();
  if (E.isLeft(daemon)) return t.fail(describeLibvirtError(daemon.left));
  t.teardown(async () => {
    await daemon.right.stop();
  });
  const xml = renderLibvirtDomain(
    { name: 'tw-accepts', vcpus: 2, memMiB: 256, accel: 'tcg', kernel: '/boot/vmlinuz', initrd: undefined, cmdline: 'console=ttyS0', serialLog: '/run/tapwire/console.log' },
    nics,
  );
  if (E.isLeft(xml)) return t.fail(describeRenderError(xml.left));
  const file = `${daemon.right.workDir}/domain.xml`;
  writeFileSync(file, xml.right);
  // define --validate checks the XML against libvirt's schema; dumpxml shows what libvirt kept of it.
  const defined = await virsh(daemon.right.uri, ['define', '--validate', file])();
  if (E.isLeft(defined)) return t.fail(describeLibvirtError(defined.left));
  t.teardown(async () => {
    await virsh(daemon.right.uri, ['undefine', 'tw-accepts'])();
  });
  const kept = await virsh(daemon.right.uri, ['dumpxml', 'tw-accepts'])();
  if (E.isLeft(kept)) return t.fail(describeLibvirtError(kept.left));
  const dump = kept.right.replace(/\s+/g, ' ');
  t.regex(dump, /<interface type='ethernet'> <mac address='02:00:00:00:00:01'\/> <target dev='tw2' managed='no'\/> <model type='virtio'\/> <mtu size='1500'\/> <alias name='ua-net0'\/>/);
  t.regex(dump, /<target dev='tw3' managed='no'\/> <model type='virtio'\/> <driver queues='2'\/> <mtu size='9000'\/> <alias name='ua-net1'\/> <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'\/>/);
  t.regex(dump, /<target dev='mvt0' managed='no'\/> <model type='virtio'\/> <driver queues='2'\/>/);
  t.regex(dump, /<interface type='vhostuser'> <mac address='02:00:00:00:00:04'\/> <source type='unix' path='\/tmp\/vhostuser_x\/vhu.sock' mode='client'\/> <model type='virtio'\/> <driver queues='2'\/>/);
  // domxml-to-native: the machine as QEMU gets it (it rewrites every NIC to a plain tap, so NICs are checked above).
  const argv = await virsh(daemon.right.uri, ['domxml-to-native', 'qemu-argv', file])();
  if (E.isLeft(argv)) return t.fail(describeLibvirtError(argv.left));
  const out = argv.right;
  t.regex(out, /-accel tcg -cpu max/);
  t.regex(out, /-smp 2,/);
  t.is(out.match(/"driver":"virtio-net-pci"/g)?.length, 4);
  t.regex(out, /memory-backend-memfd","id":"pc.ram","share":true/);
  t.regex(out, /-kernel \/boot\/vmlinuz -append console=ttyS0/);
  t.regex(out, /-chardev file,id=charserial0,path=\/run\/tapwire\/console.log/);
});
