#!/bin/sh
# The DaemonSet's node-agent container: install the CNI executables into the
# host's CNI bin dir (mounted at $TAPWIRE_CNI_BIN_DIR), then run the device
# plugin in the foreground (exec: it gets SIGTERM from the runtime directly,
# deletes its macvtaps and socket, and exits 0).
# $TAPWIRE_CNI_MODE picks the executables:
#   thick  C forwarders that hand each call to `tapwire-cni-daemon` (the
#          DaemonSet's cni-daemon container); the node needs only libc;
#   thin   the bundled plugins themselves, with tapwire-lib/ (koffi, which
#          they load beside themselves); they run on the node, so the node
#          needs node >= 20, iproute2 and nsenter (deploy/README.md).
# Each executable is copied under a temp name in the same directory and
# renamed over the old one, so a runtime calling the plugin at that moment
# sees the old file or the new one, never a half-written one.
set -eu

mode=${TAPWIRE_CNI_MODE:-thick}
dest=${TAPWIRE_CNI_BIN_DIR:-/host/opt/cni/bin}
plugin_dir=${TAPWIRE_DEVICE_PLUGIN_DIR:-/var/lib/kubelet/device-plugins}

case "$mode" in
  thick) src=/opt/tapwire/thick ;;
  thin) src=/opt/tapwire/cni ;;
  *) echo "tapwire: TAPWIRE_CNI_MODE must be thick or thin, found '$mode'" >&2; exit 1 ;;
esac
if [ ! -d "$dest" ]; then
  echo "tapwire: the host CNI bin dir is not mounted at $dest (hostPath volume missing?)" >&2
  exit 1
fi

# The thin plugins' tapwire-lib goes first (a new plugin never runs beside an
# older lib), copied whole under a temp name and swapped in with two renames;
# a plugin running meanwhile keeps the files it opened.
if [ "$mode" = thin ]; then
  new="$dest/.tapwire-lib.tapwire-new"
  old="$dest/.tapwire-lib.tapwire-old"
  rm -rf "$new" "$old"
  cp -R "$src/tapwire-lib" "$new"
  if [ -d "$dest/tapwire-lib" ]; then mv "$dest/tapwire-lib" "$old"; fi
  mv "$new" "$dest/tapwire-lib"
  rm -rf "$old"
  echo "tapwire: installed $dest/tapwire-lib ($mode)" >&2
fi

for name in tap macvtap tc-redirect-tap; do
  tmp="$dest/.$name.tapwire-new"
  rm -f "$tmp"
  cp "$src/$name" "$tmp"
  chmod 0755 "$tmp"
  mv -f "$tmp" "$dest/$name"
  echo "tapwire: installed $dest/$name ($mode)" >&2
done

exec node /opt/tapwire/bin/tapwire-device-plugin --dir "$plugin_dir" "$@"
