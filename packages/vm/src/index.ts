// Hypervisor-neutral NIC descriptions: see packages/vm/README.md (issues 10 and 12).
export {};
