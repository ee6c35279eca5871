// Pure: the private daemon's files. libvirtd runs privileged (as root), so its
// paths are fixed (/etc/libvirt, /run/libvirt, /var/lib/libvirt, ...): they are
// bind-mounted from a work dir inside a mount namespace of its own, and the
// mount table for that is written here as an fstab for one `mount -a -T`.
//
// Options: libvirtd.conf and qemu.conf as documented in libvirt 9.0's
// daemon/libvirtd.conf and src/qemu/qemu.conf (https://libvirt.org/).

/** Only root in the private mount ns can reach the socket; no auth beyond that. */
export const LIBVIRTD_CONF = `# tapwire: private libvirtd for one pod netns
unix_sock_group = "root"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:stderr"
`;

/**
 * - user/group root: QEMU opens /dev/kvm (also under TCG: a user that cannot
 *   makes libvirt re-probe QEMU's capabilities on every call, ~60 s each);
 * - dynamic_ownership/remember_owner 0: libvirt would chown the shared kernel
 *   and initrd to the QEMU user and record xattrs on them;
 * - security_driver none: no AppArmor/SELinux labels on files we share;
 * - stdio_handler file: no virtlogd without systemd;
 * - namespaces []: QEMU stays in the daemon's mount ns, where /dev/tap<ifindex>
 *   is the pod's own macvtap (see daemon.ts), instead of a copied /dev;
 * - cgroup_controllers []: nothing is made under /sys/fs/cgroup (the daemon's
 *   sysfs is the pod netns's own and has no cgroup mounts anyway).
 */
export const QEMU_CONF = `# tapwire: private libvirtd for one pod netns
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
namespaces = []
cgroup_controllers = []
`;

/** The user and group Debian's libvirt-daemon-driver-qemu expects to exist. */
export const QEMU_USER = 'libvirt-qemu';
const QEMU_UID = 64055;

const hasEntry = (db: string, name: string): boolean => db.split('\n').some((l) => l.split(':')[0] === name);

const withLine = (db: string, line: string): string => `${db}${db === '' || db.endsWith('\n') ? '' : '\n'}${line}\n`;

/** The host's passwd plus libvirt-qemu when it has none (only the daemon sees it). */
export const passwdWithQemuUser = (passwd: string): string =>
  hasEntry(passwd, QEMU_USER) ? passwd : withLine(passwd, `${QEMU_USER}:x:${QEMU_UID}:${QEMU_UID}:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin`);

export const groupWithQemuGroup = (group: string): string => (hasEntry(group, QEMU_USER) ? group : withLine(group, `${QEMU_USER}:x:${QEMU_UID}:`));

export interface FstabEntry {
  readonly source: string;
  readonly target: string;
  readonly type: string;
  readonly options: string;
}

const bind = (source: string, target: string, options = 'bind'): FstabEntry => ({ source, target, type: 'none', options });

/** fstab fields are whitespace-separated; util-linux reads \040-style octal escapes. */
const fstabField = (s: string): string => s.replace(/[\\\s#]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

export const renderFstab = (entries: readonly FstabEntry[]): string =>
  entries.map((e) => `${fstabField(e.source)} ${fstabField(e.target)} ${e.type} ${e.options} 0 0`).join('\n') + '\n';

export interface DaemonLayout {
  /** The work dir on the host; everything the daemon writes lands under it. */
  readonly workDir: string;
  /** Survives the daemon: QEMU capabilities (the first probe costs ~8 s). */
  readonly capsCacheDir: string;
  /** Host files the domain reads, mounted read-only at the given paths inside. */
  readonly files: readonly { readonly host: string; readonly inside: string }[];
}

/** Where each private dir lives under the work dir. */
export const layoutPaths = (workDir: string) => ({
  etc: `${workDir}/etc`,
  run: `${workDir}/run`,
  var: `${workDir}/var`,
  capsTarget: `${workDir}/var/cache/libvirt/qemu`,
  passwd: `${workDir}/passwd`,
  group: `${workDir}/group`,
  devUpper: `${workDir}/dev-upper`,
  devWork: `${workDir}/dev-work`,
  socket: `${workDir}/run/libvirt/libvirt-sock`,
  log: `${workDir}/libvirtd.log`,
});

/**
 * The first mount table, in order. A fresh sysfs mounted from inside the pod
 * netns shows that netns's links (libvirt reads /sys/class/net). The caps
 * cache is bound onto the work dir's var before var is bound (rbind carries it).
 * `mount -a` skips an entry whose source and target are already mounted, so
 * sysfs gets a source name of its own.
 */
export const daemonFstab = (l: DaemonLayout): FstabEntry[] => {
  const p = layoutPaths(l.workDir);
  return [
    { source: 'tapwire-sysfs', target: '/sys', type: 'sysfs', options: 'nosuid,nodev,noexec' },
    bind(p.etc, '/etc/libvirt'),
    bind(p.passwd, '/etc/passwd'),
    bind(p.group, '/etc/group'),
    bind(l.capsCacheDir, p.capsTarget),
    bind(p.var, '/var', 'rbind'),
    bind(p.run, '/run'),
    ...l.files.map((f) => bind(f.host, f.inside, 'bind,ro')),
  ];
};

/**
 * The second table, only with macvtaps: /dev becomes an overlay whose upper
 * layer holds tap<ifindex> nodes made for the pod's own macvtaps, so the
 * daemon opens the pod's device even where the host's /dev/tap<ifindex> is
 * another netns's (ifindexes repeat across netns; devtmpfs keeps the first).
 */
export const devFstab = (workDir: string): FstabEntry[] => {
  const p = layoutPaths(workDir);
  return [{ source: 'tapwire-dev', target: '/dev', type: 'overlay', options: `lowerdir=/dev,upperdir=${p.devUpper},workdir=${p.devWork}` }];
};
