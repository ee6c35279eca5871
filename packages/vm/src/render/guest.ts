// The non-NIC half of a VM that every whole-VM renderer needs: a direct
// kernel boot, its size, and where the serial console goes. Hypervisor-neutral
// like NicSpec; each renderer spells it its own way.
export interface GuestMachine {
  /** The VM's name where the VMM has one (libvirt domain name). */
  readonly name: string;
  readonly vcpus: number;
  readonly memMiB: number;
  /** kvm: hardware virtualization; tcg: QEMU's emulator (libvirt type='qemu'). */
  readonly accel: 'kvm' | 'tcg';
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly cmdline: string;
  /** The guest's first serial port is written to this file (as the VMM sees the path). */
  readonly serialLog: string;
}
