// Goldens: the same NicSpecs rendered for every VMM, checked against each
// VMM's documented syntax (libvirt formatdomain, cloud-hypervisor --net/
// --device, Firecracker network-interfaces), and the combos each VMM cannot
// express refused by name.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import type { NicSpec } from '../nic.js';
import { renderCloudHypervisorArgv, renderCloudHypervisorNic } from './cloud-hypervisor.js';
import { describeRenderError, type RenderError } from './errors.js';
import { renderFirecrackerConfig } from './firecracker.js';
import type { GuestMachine } from './guest.js';
import { renderLibvirtDomain, renderLibvirtNic } from './libvirt.js';

const machine: GuestMachine = {
  name: 'tw-golden',
  vcpus: 2,
  memMiB: 256,
  accel: 'tcg',
  kernel: '/img/vmlinux',
  initrd: '/img/initrd.img',
  cmdline: "console=ttyS0 tapwire.ping=10.0.0.1 a<b&'c'",
  serialLog: '/run/tw/console.log',
};
const kvm: GuestMachine = { ...machine, accel: 'kvm' };

const tap1: NicSpec = { id: 'net0', link: 'eth0', mac: '02:00:00:00:00:01', mtu: 1500, queues: 1, backend: { kind: 'tap', device: 'tw2', ifindex: 5, multiQueue: false, vnetHdr: true } };
const tap2: NicSpec = { id: 'net1', link: 'eth1', mac: '02:00:00:00:00:02', mtu: 9000, queues: 2, backend: { kind: 'tap', device: 'tw3', ifindex: 6, multiQueue: true, vnetHdr: true } };
const mvt: NicSpec = { id: 'net2', link: 'net1', mac: '02:00:00:00:00:03', mtu: 1500, queues: 2, backend: { kind: 'macvtap', device: 'mvt0', ifindex: 4 } };
const vhu: NicSpec = { id: 'net3', link: 'eth2', mac: '02:00:00:00:00:04', mtu: 1500, queues: 2, backend: { kind: 'vhost-user', socket: '/tmp/vhostuser_x/vhu.sock' } };
const vf: NicSpec = { id: 'net4', link: 'ens1f0v1', mac: '', mtu: 1500, queues: 1, backend: { kind: 'vfio', bdf: '0000:06:02.1', boundDriver: 'vfio-pci' } };

const right = <A>(t: { fail: (m: string) => void }, r: E.Either<RenderError, A>): A | undefined => {
  if (E.isLeft(r)) {
    t.fail(describeRenderError(r.left));
    return undefined;
  }
  return r.right;
};

const LIBVIRT_GOLDEN = `<domain type='qemu'>
  <name>tw-golden</name>
  <memory unit='MiB'>256</memory>
  <memoryBacking>
    <source type='memfd'/>
    <access mode='shared'/>
  </memoryBacking>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>/img/vmlinux</kernel>
    <initrd>/img/initrd.img</initrd>
    <cmdline>console=ttyS0 tapwire.ping=10.0.0.1 a&lt;b&amp;'c'</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <cpu mode='maximum' check='none'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='ethernet'>
      <mac address='02:00:00:00:00:01'/>
      <model type='virtio'/>
      <target dev='tw2' managed='no'/>
      <mtu size='1500'/>
      <alias name='ua-net0'/>
    </interface>
    <interface type='ethernet'>
      <mac address='02:00:00:00:00:02'/>
      <model type='virtio'/>
      <target dev='tw3' managed='no'/>
      <driver queues='2'/>
      <mtu size='9000'/>
      <alias name='ua-net1'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </interface>
    <interface type='ethernet'>
      <mac address='02:00:00:00:00:03'/>
      <model type='virtio'/>
      <target dev='mvt0' managed='no'/>
      <driver queues='2'/>
      <mtu size='1500'/>
      <alias name='ua-net2'/>
    </interface>
    <interface type='vhostuser'>
      <mac address='02:00:00:00:00:04'/>
      <model type='virtio'/>
      <source type='unix' path='/tmp/vhostuser_x/vhu.sock' mode='client'/>
      <driver queues='2'/>
      <mtu size='1500'/>
      <alias name='ua-net3'/>
    </interface>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source>
        <address domain='0x0000' bus='0x06' slot='0x02' function='0x1'/>
      </source>
      <alias name='ua-net4'/>
    </hostdev>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='/run/tw/console.log'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
`;

test('libvirt: every NIC kind in one domain (golden)', (t) => {
  t.is(right(t, renderLibvirtDomain(machine, [tap1, { ...tap2, pciAddress: '00:05.0' }, mvt, vhu, vf])), LIBVIRT_GOLDEN);
});

test('libvirt: kvm gives a kvm domain with the host CPU; no vhost-user, no shared memory', (t) => {
  const xml = right(t, renderLibvirtDomain(kvm, [tap1])) ?? '';
  t.true(xml.startsWith("<domain type='kvm'>"));
  t.true(xml.includes("<cpu mode='host-passthrough'/>"));
  t.false(xml.includes('memoryBacking'));
});

test('libvirt: queues must match the tap multi_queue flag, both ways', (t) => {
  const one = renderLibvirtNic({ ...tap1, backend: { ...tap1.backend, multiQueue: true } as NicSpec['backend'] });
  const two = renderLibvirtNic({ ...tap2, backend: { ...tap2.backend, multiQueue: false } as NicSpec['backend'] });
  t.like(one, { _tag: 'Left', left: { _tag: 'UnsupportedQueues', vmm: 'libvirt', nic: 'net0', queues: 1 } });
  t.like(two, { _tag: 'Left', left: { _tag: 'UnsupportedQueues', vmm: 'libvirt', nic: 'net1', queues: 2 } });
});

test('libvirt: fewer vCPUs than a NIC has queues is refused', (t) => {
  const r = renderLibvirtDomain({ ...machine, vcpus: 1 }, [tap2]);
  t.like(r, { _tag: 'Left', left: { _tag: 'UnsupportedQueues', nic: 'net1', queues: 2 } });
  if (E.isLeft(r)) t.regex(describeRenderError(r.left), /1 vCPUs/);
});

test('libvirt: a function not bound to vfio-pci, a bad MAC, a duplicate id, a relative kernel', (t) => {
  t.like(renderLibvirtNic({ ...vf, backend: { kind: 'vfio', bdf: '0000:06:02.1', boundDriver: 'iavf' } }), { left: { _tag: 'UnsupportedBackend', backend: 'vfio' } });
  t.like(renderLibvirtNic({ ...tap1, mac: 'nope' }), { left: { _tag: 'BadField', field: 'mac' } });
  t.like(renderLibvirtDomain(machine, [tap1, tap1]), { left: { _tag: 'BadField', field: 'id' } });
  t.like(renderLibvirtDomain({ ...machine, kernel: 'vmlinux' }, [tap1]), { left: { _tag: 'BadField', field: 'kernel' } });
});

test('libvirt: names and paths are escaped, never interpolated raw', (t) => {
  const xml = right(t, renderLibvirtDomain({ ...machine, name: "a'<b>", serialLog: "/run/x'y.log" }, [{ ...tap1, backend: { ...tap1.backend, device: "t'w" } as NicSpec['backend'] }])) ?? '';
  t.true(xml.includes('<name>a\'&lt;b&gt;</name>'));
  t.true(xml.includes("<source path='/run/x&apos;y.log'/>"));
  t.true(xml.includes("<target dev='t&apos;w' managed='no'/>"));
});

test('cloud-hypervisor: every NIC kind (golden)', (t) => {
  const argv = right(
    t,
    renderCloudHypervisorArgv(kvm, [tap1, tap2, mvt, vhu, vf], (i) => (i === 2 ? { queueFds: [3, 4], vhostFds: [] } : undefined)),
  );
  t.deepEqual(argv, [
    '--kernel', '/img/vmlinux',
    '--initramfs', '/img/initrd.img',
    '--cmdline', "console=ttyS0 tapwire.ping=10.0.0.1 a<b&'c'",
    '--cpus', 'boot=2',
    '--memory', 'size=256M,shared=on',
    '--serial', 'file=/run/tw/console.log',
    '--console', 'off',
    '--net', 'tap=tw2,mac=02:00:00:00:00:01,num_queues=2,mtu=1500,id=net0',
    '--net', 'tap=tw3,mac=02:00:00:00:00:02,num_queues=4,mtu=9000,id=net1',
    '--net', 'fd=[3,4],mac=02:00:00:00:00:03,num_queues=4,mtu=1500,id=net2',
    '--net', 'vhost_user=true,socket=/tmp/vhostuser_x/vhu.sock,vhost_mode=client,mac=02:00:00:00:00:04,num_queues=4,mtu=1500,id=net3',
    '--device', 'path=/sys/bus/pci/devices/0000:06:02.1/,id=net4',
  ]);
});

test('cloud-hypervisor: refuses TCG, vhost-net fds, a macvtap without fds, a pinned PCI slot, commas in a socket', (t) => {
  t.like(renderCloudHypervisorArgv(machine, [tap1]), { left: { _tag: 'BadField', field: 'accel' } });
  t.like(renderCloudHypervisorNic(tap1, { queueFds: [3], vhostFds: [4] }), { left: { _tag: 'UnsupportedBackend', backend: 'tap' } });
  t.like(renderCloudHypervisorNic(mvt, undefined), { left: { _tag: 'UnsupportedBackend', backend: 'macvtap' } });
  t.like(renderCloudHypervisorNic({ ...tap1, pciAddress: '00:05.0' }, undefined), { left: { _tag: 'BadField', field: 'pciAddress' } });
  t.like(renderCloudHypervisorNic({ ...vhu, backend: { kind: 'vhost-user', socket: '/tmp/a,b.sock' } }, undefined), { left: { _tag: 'BadField', field: 'socket' } });
  t.like(renderCloudHypervisorNic(mvt, { queueFds: [3], vhostFds: [] }), { left: { _tag: 'BadField', field: 'queueFds' } });
});

test('firecracker: a one-queue tap (golden)', (t) => {
  t.deepEqual(right(t, renderFirecrackerConfig(kvm, [tap1])), {
    'boot-source': { kernel_image_path: '/img/vmlinux', boot_args: "console=ttyS0 tapwire.ping=10.0.0.1 a<b&'c'", initrd_path: '/img/initrd.img' },
    'machine-config': { vcpu_count: 2, mem_size_mib: 256 },
    drives: [],
    'network-interfaces': [{ iface_id: 'net0', host_dev_name: 'tw2', guest_mac: '02:00:00:00:00:01' }],
  });
});

test('firecracker: refuses macvtap, vhost-user, VFIO, queues > 1, a multi_queue tap, TCG', (t) => {
  for (const n of [mvt, vhu, vf]) t.like(renderFirecrackerConfig(kvm, [n]), { left: { _tag: 'UnsupportedBackend', vmm: 'firecracker', nic: n.id } });
  t.like(renderFirecrackerConfig(kvm, [tap2]), { left: { _tag: 'UnsupportedQueues', nic: 'net1' } });
  t.like(renderFirecrackerConfig(kvm, [{ ...tap1, backend: { ...tap1.backend, multiQueue: true } as NicSpec['backend'] }]), { left: { _tag: 'UnsupportedQueues' } });
  t.like(renderFirecrackerConfig(machine, [tap1]), { left: { _tag: 'BadField', field: 'accel' } });
});
