// NicSpec -> libvirt domain XML, the way KubeVirt's virt-launcher wires a pod:
// a tap or macvtap made by the pod's networking is handed over by name as
// <interface type='ethernet'> with <target managed='no'/> (libvirt opens it,
// never creates or deletes it), a vhost-user socket as type='vhostuser', and a
// VF already bound to vfio-pci as an unmanaged <hostdev>. Pure.
//
// Syntax: https://libvirt.org/formatdomain.html#network-interfaces
// (type='ethernet' with managed='no' since 5.7; <driver queues>; <mtu>;
// user aliases must start with "ua-"). libvirt turns <driver queues='N'>
// into N TUNSETIFF calls with IFF_MULTI_QUEUE when N > 1 and without it when
// N = 1, so N must match the tap's multi_queue flag; a macvtap's
// /dev/tap<ifindex> is opened N times.
import * as E from 'fp-ts/lib/Either.js';
import { nicsNeedSharedMemory, type NicSpec } from '../nic.js';
import { checkMac, checkMachineAndNics, checkPci, checkPositiveInt, renderEach, type PciParts } from './checks.js';
import { unsupportedBackend, type RenderError } from './errors.js';
import type { GuestMachine } from './guest.js';
import { emptyElement, xmlAttr, xmlText } from './xml.js';

const VMM = 'libvirt';
/** virtio-net's limit on queue pairs in QEMU. */
const MAX_QUEUES = 256;
const MAX_MTU = 65535;

const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;

const pciAddress = (p: PciParts, extra: readonly (readonly [string, string])[] = []): string =>
  emptyElement('address', [...extra, ['domain', hex(p.domain, 4)], ['bus', hex(p.bus, 2)], ['slot', hex(p.slot, 2)], ['function', hex(p.fn, 1)]]);

/** The guest-side PCI address, when the NicSpec pins one. */
const guestAddress = (nic: NicSpec): E.Either<RenderError, string[]> => {
  if (nic.pciAddress === undefined) return E.right([]);
  return E.map((p: PciParts) => [pciAddress(p, [['type', 'pci']])])(checkPci(VMM, `NIC ${nic.id}`, 'pciAddress', nic.pciAddress));
};

const queuesLine = (queues: number): string[] => (queues > 1 ? [emptyElement('driver', [['queues', queues]])] : []);

const indent = (lines: readonly string[], by = '  '): string[] => lines.map((l) => `${by}${l}`);

/** One <interface> or <hostdev> element, as lines. */
export const renderLibvirtNic = (nic: NicSpec): E.Either<RenderError, string[]> => {
  const queues = checkPositiveInt(VMM, `NIC ${nic.id}`, 'queues', nic.queues, MAX_QUEUES);
  if (E.isLeft(queues)) return queues;
  const address = guestAddress(nic);
  if (E.isLeft(address)) return address;
  const alias = emptyElement('alias', [['name', `ua-${nic.id}`]]);
  const b = nic.backend;
  if (b.kind === 'vfio') {
    if (b.boundDriver !== 'vfio-pci') {
      return E.left(unsupportedBackend(VMM, nic, `${b.bdf} is bound to ${b.boundDriver ?? 'no driver'}, not vfio-pci (tapwire never rebinds a host function)`));
    }
    const host = checkPci(VMM, `NIC ${nic.id}`, 'bdf', b.bdf);
    if (E.isLeft(host)) return host;
    return E.right([
      `<hostdev mode='subsystem' type='pci' managed='no'>`,
      ...indent(['<source>', ...indent([pciAddress(host.right)]), '</source>', alias, ...address.right]),
      '</hostdev>',
    ]);
  }
  const mac = checkMac(VMM, nic);
  if (E.isLeft(mac)) return mac;
  const mtu = checkPositiveInt(VMM, `NIC ${nic.id}`, 'mtu', nic.mtu, MAX_MTU);
  if (E.isLeft(mtu)) return mtu;
  const common = [emptyElement('mac', [['address', mac.right]]), emptyElement('model', [['type', 'virtio']])];
  if (b.kind === 'vhost-user') {
    return E.right([
      `<interface type='vhostuser'>`,
      ...indent([
        ...common,
        emptyElement('source', [['type', 'unix'], ['path', b.socket], ['mode', 'client']]),
        ...queuesLine(nic.queues),
        emptyElement('mtu', [['size', nic.mtu]]),
        alias,
        ...address.right,
      ]),
      '</interface>',
    ]);
  }
  if (b.kind === 'tap' && (nic.queues > 1) !== b.multiQueue) {
    return E.left({
      _tag: 'UnsupportedQueues',
      vmm: VMM,
      nic: nic.id,
      queues: nic.queues,
      why: `libvirt opens ${b.device} ${b.multiQueue ? 'with' : 'without'} IFF_MULTI_QUEUE only for ${b.multiQueue ? 'more than one queue' : 'one queue'}, and the tap is ${b.multiQueue ? '' : 'not '}multi_queue`,
    });
  }
  return E.right([
    `<interface type='ethernet'>`,
    ...indent([
      ...common,
      emptyElement('target', [['dev', b.device], ['managed', 'no']]),
      ...queuesLine(nic.queues),
      emptyElement('mtu', [['size', nic.mtu]]),
      alias,
      ...address.right,
    ]),
    '</interface>',
  ]);
};

/** A whole transient domain: direct kernel boot, serial console to a file, the NICs in order. */
export const renderLibvirtDomain = (m: GuestMachine, nics: readonly NicSpec[]): E.Either<RenderError, string> => {
  const checked = checkMachineAndNics(VMM, m, nics);
  if (E.isLeft(checked)) return checked;
  const rendered = renderEach(nics, renderLibvirtNic);
  if (E.isLeft(rendered)) return rendered;
  const lines = [
    `<domain type='${m.accel === 'kvm' ? 'kvm' : 'qemu'}'>`,
    ...indent([
      `<name>${xmlText(m.name)}</name>`,
      `<memory unit='MiB'>${m.memMiB}</memory>`,
      // A vhost-user backend maps guest RAM: it must be a shareable fd.
      ...(nicsNeedSharedMemory(nics)
        ? ['<memoryBacking>', ...indent([emptyElement('source', [['type', 'memfd']]), emptyElement('access', [['mode', 'shared']])]), '</memoryBacking>']
        : []),
      `<vcpu>${m.vcpus}</vcpu>`,
      '<os>',
      ...indent([
        `<type arch='x86_64' machine='q35'>hvm</type>`,
        `<kernel>${xmlText(m.kernel)}</kernel>`,
        ...(m.initrd === undefined ? [] : [`<initrd>${xmlText(m.initrd)}</initrd>`]),
        `<cmdline>${xmlText(m.cmdline)}</cmdline>`,
      ]),
      '</os>',
      '<features>',
      ...indent(['<acpi/>']),
      '</features>',
      // As the QEMU renderer: the host CPU under KVM, everything TCG can emulate otherwise.
      m.accel === 'kvm' ? emptyElement('cpu', [['mode', 'host-passthrough']]) : emptyElement('cpu', [['mode', 'maximum'], ['check', 'none']]),
      '<on_poweroff>destroy</on_poweroff>',
      '<on_reboot>destroy</on_reboot>',
      '<on_crash>destroy</on_crash>',
      '<devices>',
      ...indent([
        ...rendered.right.flat(),
        // libvirt adds a USB controller to q35 unless told not to: the guest would probe it at boot.
        emptyElement('controller', [['type', 'usb'], ['model', 'none']]),
        `<serial type='file'>`,
        ...indent([`<source path='${xmlAttr(m.serialLog)}'/>`, `<target port='0'/>`]),
        '</serial>',
        emptyElement('memballoon', [['model', 'none']]),
      ]),
      '</devices>',
    ]),
    '</domain>',
  ];
  return E.right(`${lines.join('\n')}\n`);
};
