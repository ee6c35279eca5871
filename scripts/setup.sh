#!/usr/bin/env bash
# Sets up a fresh Debian machine (as root) to build, test and run tapwire:
# system packages, pnpm, the workspace's dependencies, the build, the guest image.
set -euo pipefail
cd "$(dirname "$0")/.."

# podman + runc: the tests drive our CNI plugins through Podman's CNI backend (crun 1.8
# refuses this host's hybrid cgroups); dpdk-dev: dpdk-testpmd, a real vhost-user backend;
# libvirt (monolithic libvirtd, no libvirt-daemon-system: it would start the host's
# daemon): `launch --via libvirt`; gcc + libc6-dev: the thick CNI forwarders;
# graphviz: `inspect --svg`; python3-pyroute2: the bench's per-op netlink baseline.
APT_PACKAGES=(iproute2 util-linux ethtool kmod cpio gzip xz-utils busybox-static linux-image-amd64
  qemu-system-x86 containernetworking-plugins python3
  podman runc dpdk-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  gcc libc6-dev graphviz python3-pyroute2)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# corepack's signature check fails against this registry, so pnpm comes from npm.
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version | cut -d. -f1)" != 10 ]; then
  npm install -g pnpm@10 >/dev/null 2>&1
fi

pnpm install --frozen-lockfile --reporter=silent
pnpm -s build
if [ -x scripts/build-guest.sh ]; then
  bash scripts/build-guest.sh
fi
echo "setup: done"
