// A hotplugged NIC as @tapwire/vm's hypervisor-neutral NicSpec, so a runtime
// keeps it in the VM handle's NIC table and in its saved NicState; and back:
// what unplug needs, from a NicSpec reloaded after a restart.
import type { NicSpec } from '@tapwire/vm';
import type { Attachment } from '@tapwire/netmodel';
import { chardevIdOf, deviceIdOf, type HotNic, type PluggedNic } from './plug.js';

/** ifindex 0: not recorded (the state check then skips the ifindex comparison). */
export const nicSpecOfHot = (nic: HotNic, link: string, attachment: Attachment | undefined, pciAddress: string | undefined): NicSpec => {
  const common = { id: nic.id, link, mac: nic.mac, ...(pciAddress === undefined ? {} : { pciAddress }) };
  if (nic.kind === 'vhost-user') return { ...common, mtu: 1500, queues: nic.queues, backend: { kind: 'vhost-user', socket: nic.socket } };
  const device = attachment?.tapName ?? link;
  return {
    ...common,
    mtu: nic.mtu,
    queues: nic.queueFds.length,
    backend: nic.kind === 'macvtap' ? { kind: 'macvtap', device, ifindex: 0 } : { kind: 'tap', device, ifindex: 0, multiQueue: attachment?.multiQueue ?? nic.queueFds.length > 1, vnetHdr: true },
  };
};

/**
 * What unplugNic needs of a NIC known only from saved state: the device id is
 * the NIC id, a vhost-user NIC has its chardev, and QEMU holds no named fds
 * (netdev_add took them).
 */
export const pluggedOfNicSpec = (n: NicSpec): PluggedNic => ({
  id: n.id,
  device: deviceIdOf(n.id),
  port: '',
  fdNames: [],
  chardev: n.backend.kind === 'vhost-user' ? chardevIdOf(n.id) : undefined,
  pciAddress: n.pciAddress,
});
