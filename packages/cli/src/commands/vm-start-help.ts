// vm start's help, apart so `vm list/add/remove/stop` never load @tapwire/qemu.
import { DEFAULT_VM_DIR } from './vm-registry.js';

export const VM_START_HELP = `tapwire vm start <netns> [--nics none|all] [--name NAME] [--ports N] [--model M] [--queues N] [--mem MIB] [--accel tcg|kvm] [--vm-dir DIR] [--json]
  Boot a guest in <netns> and keep it running in the foreground. It prints the
  VM's name and a QMP socket for you (this process holds
  another monitor) and registers under --vm-dir (default ${DEFAULT_VM_DIR})/<name>/.
  --nics all plugs every attachable link of the netns once the guest is up
  (--model/--queues as for attach); none (default) starts without NICs.
  --ports: hotplug root ports reserved for NICs (default 8).
  Drive it with tapwire vm add|remove|list|stop; Ctrl-C stops it too. Either
  way every NIC is unplugged, its endpoint detached, and QEMU stopped.`;
