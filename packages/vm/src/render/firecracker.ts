// NicSpec -> Firecracker's --config-file JSON. Pure.
//
// Syntax (Firecracker docs/network-setup.md and the API's NetworkInterface):
//   "network-interfaces": [{ "iface_id", "host_dev_name", "guest_mac" }]
// Firecracker opens host_dev_name itself with TUNSETIFF (IFF_TAP|IFF_NO_PI|
// IFF_VNET_HDR, never IFF_MULTI_QUEUE) inside its own netns, so it takes a
// tap that is not multi_queue, one queue pair, and nothing else: no macvtap
// (not a tun device), no vhost-user, no VFIO, no chosen PCI slot, no TCG.
// The guest's MTU is the guest's business (tapwire sets it on the cmdline).
// Its serial console is its stdout: serialLog is where the caller writes it.
import * as E from 'fp-ts/lib/Either.js';
import type { NicSpec } from '../nic.js';
import { checkMac, checkMachineAndNics, renderEach } from './checks.js';
import { badField, unsupportedBackend, type RenderError } from './errors.js';
import type { GuestMachine } from './guest.js';

const VMM = 'firecracker';

export interface FirecrackerNetworkInterface {
  readonly iface_id: string;
  readonly host_dev_name: string;
  readonly guest_mac: string;
}

export interface FirecrackerConfig {
  readonly 'boot-source': { readonly kernel_image_path: string; readonly boot_args: string; readonly initrd_path?: string };
  readonly 'machine-config': { readonly vcpu_count: number; readonly mem_size_mib: number };
  readonly drives: readonly never[];
  readonly 'network-interfaces': readonly FirecrackerNetworkInterface[];
}

export const renderFirecrackerNic = (nic: NicSpec): E.Either<RenderError, FirecrackerNetworkInterface> => {
  const b = nic.backend;
  if (b.kind !== 'tap') return E.left(unsupportedBackend(VMM, nic, 'Firecracker only opens TUN/TAP devices by name'));
  if (nic.queues !== 1 || b.multiQueue) {
    return E.left({ _tag: 'UnsupportedQueues', vmm: VMM, nic: nic.id, queues: nic.queues, why: 'Firecracker has no multi-queue support: attach with one queue (a tap without multi_queue)' });
  }
  if (nic.pciAddress !== undefined) return E.left(badField(VMM, `NIC ${nic.id}`, 'pciAddress', nic.pciAddress, 'none: Firecracker devices are virtio-mmio'));
  const mac = checkMac(VMM, nic);
  if (E.isLeft(mac)) return mac;
  return E.right({ iface_id: nic.id, host_dev_name: b.device, guest_mac: mac.right });
};

export const renderFirecrackerConfig = (m: GuestMachine, nics: readonly NicSpec[]): E.Either<RenderError, FirecrackerConfig> => {
  if (m.accel !== 'kvm') return E.left(badField(VMM, 'machine', 'accel', m.accel, 'kvm (Firecracker has no emulator)'));
  const checked = checkMachineAndNics(VMM, m, nics);
  if (E.isLeft(checked)) return checked;
  const ifaces = renderEach(nics, renderFirecrackerNic);
  if (E.isLeft(ifaces)) return ifaces;
  return E.right({
    'boot-source': { kernel_image_path: m.kernel, boot_args: m.cmdline, ...(m.initrd === undefined ? {} : { initrd_path: m.initrd }) },
    'machine-config': { vcpu_count: m.vcpus, mem_size_mib: m.memMiB },
    drives: [],
    'network-interfaces': ifaces.right,
  });
};
