#!/bin/sh
# Builds the tapwire guest: the host's Debian kernel plus a tiny initramfs
# (busybox-static, the virtio-net modules of that kernel, guest/init) that
# configures its NICs from the kernel command line and reports on ttyS0.
#
#   scripts/build-guest.sh [CACHE_DIR]      (default: <repo>/.cache/guest)
#
# Output: CACHE_DIR/vmlinuz and CACHE_DIR/initrd.img (cpio newc, gzip), and
# CACHE_DIR/vmlinux when the kernel has a PVH entry (CONFIG_PVH): the same
# kernel uncompressed, which QEMU boots directly (-kernel vmlinux). Under TCG
# that skips the in-guest decompression and roughly halves the boot time.
# Idempotent: CACHE_DIR/stamp records the inputs (kernel version and image
# hash, busybox hash, guest/* and this script); nothing is rebuilt while the
# stamp matches. TAPWIRE_GUEST_KVER=<version> picks a kernel other than the
# newest one installed under /boot.
# Needs: linux-image-amd64 busybox-static cpio gzip xz-utils (zstd instead
# of xz-utils for a zstd-compressed kernel or modules); installed with
# apt-get when missing and running as root.
set -eu

REPO=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
CACHE_DIR=${1:-"$REPO/.cache/guest"}
GUEST_SRC="$REPO/guest"
# The load order the virtio-net stack needs (and virtio_console: the control
# channel is a virtio-serial port); modules.dep may add more below.
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net virtio_console"

say() { printf 'build-guest: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# A fresh image may have no package lists yet: update once and retry.
apt_install() {
  [ "$(id -u)" -eq 0 ] || die "missing $* and not root: run 'apt-get install -y $*' first"
  say "installing $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

need_cmd() { # need_cmd COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

# Newest installed kernel that has both an image and a module tree. The host
# may run another kernel (a container, a microVM), so uname -r is not used.
pick_kernel() {
  for v in $(ls /boot 2>/dev/null | sed -n 's/^vmlinuz-//p' | sort -rV); do
    if [ -f "/lib/modules/$v/modules.dep" ]; then
      echo "$v"
      return 0
    fi
  done
  return 1
}

[ -f "$GUEST_SRC/init" ] || die "$GUEST_SRC/init not found"
need_cmd cpio cpio
need_cmd gzip gzip
# The initramfs has no libc, so busybox must be the static build (ldd fails
# on static executables; Debian's dynamic 'busybox' package would pass -x).
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || apt_install busybox-static

KVER=${TAPWIRE_GUEST_KVER:-}
if [ -z "$KVER" ]; then
  if ! KVER=$(pick_kernel); then
    # No kernel at all means this host does not boot from /boot (a container):
    # INITRD=No skips building a host initramfs nobody uses (20-30 s).
    (export INITRD=No && apt_install linux-image-amd64)
    KVER=$(pick_kernel) || die "no kernel under /boot after installing linux-image-amd64"
  fi
fi
VMLINUZ="/boot/vmlinuz-$KVER"
MODDIR="/lib/modules/$KVER"
[ -r "$VMLINUZ" ] || die "$VMLINUZ not readable"
[ -f "$MODDIR/modules.dep" ] || die "$MODDIR/modules.dep not found"

# Everything that changes the output goes into the stamp.
STAMP=$(
  {
    echo "kernel $KVER"
    sha256sum "$VMLINUZ" /bin/busybox "$0" | cut -d' ' -f1
    (cd "$GUEST_SRC" && find . -type f | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -d' ' -f1
)
WANT_PVH=0
grep -qx 'CONFIG_PVH=y' "/boot/config-$KVER" 2>/dev/null && WANT_PVH=1

print_outputs() {
  echo "$CACHE_DIR/vmlinuz"
  echo "$CACHE_DIR/initrd.img"
  [ ! -f "$CACHE_DIR/vmlinux" ] || echo "$CACHE_DIR/vmlinux"
}

if [ -f "$CACHE_DIR/vmlinuz" ] && [ -f "$CACHE_DIR/initrd.img" ] && { [ "$WANT_PVH" = 0 ] || [ -f "$CACHE_DIR/vmlinux" ]; } \
  && [ "$(cat "$CACHE_DIR/stamp" 2>/dev/null)" = "$STAMP" ]; then
  say "up to date (kernel $KVER)"
  print_outputs
  exit 0
fi

mkdir -p "$CACHE_DIR"
WORK=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
ROOT="$WORK/root"
mkdir -p "$ROOT/bin" "$ROOT/dev" "$ROOT/proc" "$ROOT/sys" "$ROOT/tmp" "$ROOT/run" "$ROOT/etc/tapwire" "$ROOT/lib/modules/$KVER"

cp /bin/busybox "$ROOT/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$ROOT/bin/$applet"
done
ln -s bin "$ROOT/sbin"
install -m 0755 "$GUEST_SRC/init" "$ROOT/init"
# The kernel hands PID 1 /dev/console as stdio only if the node exists in the
# initramfs; without CAP_MKNOD guest/init reopens it after mounting devtmpfs.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || say "no mknod: guest/init will open /dev/console itself"

# modules.dep path of a module name ('-' and '_' are the same to the kernel).
dep_path() {
  awk -F: -v want="$(echo "$1" | tr - _)" '{
    n = $1; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); gsub(/-/, "_", n)
    if (n == want) { print $1; exit }
  }' "$MODDIR/modules.dep"
}
dep_list() {
  awk -F: -v p="$1" '$1 == p { print $2; exit }' "$MODDIR/modules.dep"
}
is_builtin() {
  [ -f "$MODDIR/modules.builtin" ] && sed 's/.*\///; s/\.ko$//; s/-/_/g' "$MODDIR/modules.builtin" | grep -qx "$(echo "$1" | tr - _)"
}

# Dependencies first (modules.dep lists them so that loading right to left
# works), then the module itself; each module once.
ORDER="$WORK/order"
: >"$ORDER"
add_module_path() {
  grep -qx "$1" "$ORDER" && return 0
  for d in $(dep_list "$1" | tr ' ' '\n' | sed '/^$/d' | tac); do
    add_module_path "$d"
  done
  echo "$1" >>"$ORDER"
}
for m in $MODULES; do
  p=$(dep_path "$m")
  if [ -n "$p" ]; then
    add_module_path "$p"
  elif is_builtin "$m"; then
    say "$m is built into $KVER"
  else
    say "warning: $m is neither a module nor built into $KVER; skipped"
  fi
done

: >"$ROOT/etc/tapwire/modules"
while read -r p; do
  name=$(basename "$p")
  src="$MODDIR/$p"
  case "$name" in
    *.ko.xz) need_cmd xz xz-utils; out=${name%.xz}; xz -dc "$src" >"$ROOT/lib/modules/$KVER/$out" ;;
    *.ko.zst) need_cmd zstd zstd; out=${name%.zst}; zstd -qdc "$src" >"$ROOT/lib/modules/$KVER/$out" ;;
    *.ko.gz) out=${name%.gz}; gzip -dc "$src" >"$ROOT/lib/modules/$KVER/$out" ;;
    *.ko) out=$name; cp "$src" "$ROOT/lib/modules/$KVER/$out" ;;
    *) die "unexpected module file $p" ;;
  esac
  echo "/lib/modules/$KVER/$out" >>"$ROOT/etc/tapwire/modules"
done <"$ORDER"
say "modules: $(sed 's/.*\///; s/\.ko$//' "$ROOT/etc/tapwire/modules" | tr '\n' ' ')"
echo "$KVER" >"$ROOT/etc/tapwire/kernel"

# Fixed timestamps and sorted names: the same inputs give the same archive.
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible -R 0:0) | gzip -n -9 >"$WORK/initrd.img"
cp "$VMLINUZ" "$WORK/vmlinuz"
chmod 0644 "$WORK/vmlinuz" "$WORK/initrd.img"

# The bzImage carries the kernel ELF compressed after its setup code (what
# the kernel's scripts/extract-vmlinux does): find the payload's magic,
# decompress from there (trailing bytes are ignored) and keep it if it is ELF.
extract_vmlinux() { # extract_vmlinux MAGIC_PCRE COMMAND...
  magic=$1
  shift
  command -v "$1" >/dev/null 2>&1 || return 1
  for off in $(LC_ALL=C grep -aboP "$magic" "$VMLINUZ" | cut -d: -f1); do
    tail -c "+$((off + 1))" "$VMLINUZ" | "$@" >"$WORK/vmlinux" 2>/dev/null
    [ "$(head -c 4 "$WORK/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] && return 0
  done
  return 1
}
rm -f "$CACHE_DIR/vmlinux"
if [ "$WANT_PVH" = 1 ]; then
  # The kernel's own compression decides which tool is needed (Debian: xz).
  case $(grep -o '^CONFIG_KERNEL_[A-Z0-9]*=y' "/boot/config-$KVER") in
    CONFIG_KERNEL_XZ=y) need_cmd xz xz-utils ;;
    CONFIG_KERNEL_ZSTD=y) need_cmd zstd zstd ;;
  esac
  if extract_vmlinux '\xfd7zXZ\x00' xz -dc || extract_vmlinux '\x28\xb5\x2f\xfd' zstd -qdc || extract_vmlinux '\x1f\x8b\x08' gzip -dc; then
    chmod 0644 "$WORK/vmlinux"
    mv -f "$WORK/vmlinux" "$CACHE_DIR/vmlinux"
  else
    say "warning: could not extract an ELF kernel from $VMLINUZ; boot vmlinuz instead"
  fi
fi
mv -f "$WORK/vmlinuz" "$CACHE_DIR/vmlinuz"
mv -f "$WORK/initrd.img" "$CACHE_DIR/initrd.img"
echo "$STAMP" >"$CACHE_DIR/stamp"
say "built for kernel $KVER ($(du -k "$CACHE_DIR/initrd.img" | cut -f1) KiB initramfs)"
print_outputs
