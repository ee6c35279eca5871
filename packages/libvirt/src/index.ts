// KubeVirt-style VMs through libvirt: see packages/libvirt/README.md (issue 12).
export {};
