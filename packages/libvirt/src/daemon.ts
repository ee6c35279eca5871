// Effect: a private libvirtd for one pod netns. It runs inside the pod netns
// and a mount namespace of its own (held by a keeper process), where its
// fixed paths, a passwd/group with libvirt-qemu and, with macvtaps, /dev are
// ours; nothing it writes reaches the host but the QEMU capability cache, which
// is kept between runs on purpose. stop() destroys the domains first (a QEMU
// outlives a killed libvirtd), then the daemon, then the keeper; the mounts
// go with the namespace.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { processAlive, run, type NetnsHandle } from '@tapwire/sys';
import { daemonFstab, devFstab, groupWithQemuGroup, layoutPaths, LIBVIRTD_CONF, passwdWithQemuUser, QEMU_CONF, renderFstab } from './config.js';
import { sysError, type LibvirtError } from './errors.js';
import { isQemu, killPids, qemuPids, sleep, waitGone } from './procs.js';
import { virsh } from './virsh.js';

/** Kept between runs: only a fresh cache pays libvirt's QEMU probe (~8 s here). */
export const DEFAULT_CAPS_CACHE_DIR = '/var/cache/tapwire/libvirt-qemu';
/** libvirtd creates its socket within a second; the QEMU probe comes later, on first use. */
const SOCKET_WAIT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

export interface DaemonOptions {
  readonly capsCacheDir?: string;
  /** Host files the domain reads (kernel, initrd), visible inside at `inside`. */
  readonly files?: readonly { readonly host: string; readonly inside: string }[];
  /** Macvtaps of the pod whose /dev/tap<ifindex> the daemon must see as the pod's. */
  readonly macvtaps?: readonly string[];
}

export interface MacvtapNode {
  readonly device: string;
  readonly ifindex: number;
  readonly major: number;
  readonly minor: number;
}

export interface PrivateDaemon {
  readonly uri: string;
  readonly workDir: string;
  /** The daemon's view of a path it writes (e.g. the serial log) on the host. */
  readonly hostPath: (inside: string) => string;
  readonly macvtapNodes: readonly MacvtapNode[];
  /** ifindex of a link as the pod netns has it (read through the daemon's sysfs). */
  readonly ifindexOf: (device: string) => number | undefined;
  readonly pid: number;
  readonly stop: () => Promise<readonly string[]>;
}

const tail = (file: string, lines = 8): string => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
};

/** Waits until the keeper has left our mount namespace (unshare ran). */
const waitOwnMountNs = async (pid: number): Promise<boolean> => {
  const ours = readlinkSync('/proc/self/ns/mnt');
  for (let i = 0; i < 200; i++) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/mnt`) !== ours && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') return true;
    } catch {
      return false;
    }
    await sleep(10);
  }
  return false;
};

/** A macvtap's ifindex and tap char device, read in the pod netns's sysfs (the daemon's /sys). */
const readMacvtapNode = (sysfs: string, device: string): MacvtapNode | undefined => {
  try {
    const ifindex = Number(readFileSync(`${sysfs}/class/net/${device}/ifindex`, 'utf8').trim());
    const m = /^(\d+):(\d+)$/.exec(readFileSync(`${sysfs}/class/net/${device}/tap${ifindex}/dev`, 'utf8').trim());
    if (m === null) return undefined;
    return { device, ifindex, major: Number(m[1]), minor: Number(m[2]) };
  } catch {
    return undefined;
  }
};

export const startPrivateDaemon =
  (ns: NetnsHandle, o: DaemonOptions = {}): TE.TaskEither<LibvirtError, PrivateDaemon> =>
  async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'tapwire-libvirt-'));
    const p = layoutPaths(workDir);
    const capsCacheDir = o.capsCacheDir ?? DEFAULT_CAPS_CACHE_DIR;
    let keeper: ResultPromise | undefined;
    let daemon: ResultPromise | undefined;
    const cleanup = async () => {
      await killPids([daemon?.pid, keeper?.pid].filter((x): x is number => x !== undefined));
      rmSync(workDir, { recursive: true, force: true });
    };
    const failed = async (detail: string): Promise<E.Either<LibvirtError, PrivateDaemon>> => {
      const logTail = tail(p.log);
      await cleanup();
      return E.left({ _tag: 'DaemonFailed', detail, logTail });
    };
    try {
      for (const d of [p.etc, p.run, `${p.var}/lib/libvirt`, `${p.var}/log/libvirt`, p.capsTarget, `${p.var}/tmp`, p.devUpper, p.devWork, capsCacheDir]) {
        mkdirSync(d, { recursive: true, mode: 0o700 });
      }
      writeFileSync(`${p.etc}/libvirtd.conf`, LIBVIRTD_CONF);
      writeFileSync(`${p.etc}/qemu.conf`, QEMU_CONF);
      writeFileSync(p.passwd, passwdWithQemuUser(readFileSync('/etc/passwd', 'utf8')));
      writeFileSync(p.group, groupWithQemuGroup(readFileSync('/etc/group', 'utf8')));
      for (const f of o.files ?? []) {
        // Bind targets must exist; they live in the private /run.
        if (!f.inside.startsWith('/run/')) return await failed(`file target ${f.inside} is not under /run`);
        mkdirSync(join(p.run, f.inside.slice('/run/'.length), '..'), { recursive: true });
        writeFileSync(join(p.run, f.inside.slice('/run/'.length)), '');
      }
      writeFileSync(`${workDir}/fstab`, renderFstab(daemonFstab({ workDir, capsCacheDir, files: o.files ?? [] })));
    } catch (e) {
      await cleanup();
      return E.left(sysError({ _tag: 'BadInput', what: 'private libvirtd work dir', input: workDir, expected: `writable (${String(e)})` }));
    }

    // The keeper holds the mount namespace: unshare leaves nsenter's pid as is, so its pid is the namespace's.
    keeper = execa('nsenter', [`--net=${ns.path}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sleep', 'infinity'], {
      stdio: 'ignore',
      reject: false,
      // A process group of its own: a terminal's ^C reaches only the launcher, which tears down in order.
      detached: true,
    });
    const k = keeper.pid;
    if (k === undefined || !(await waitOwnMountNs(k))) return await failed('the mount namespace keeper did not start');
    const inNs = (argv: readonly string[]) => run(['nsenter', '-t', String(k), '-m', '-n', '--', ...argv]);
    const mounted = await inNs(['mount', '-a', '-T', `${workDir}/fstab`])();
    if (E.isLeft(mounted)) return await failed(`mounting its private dirs: ${mounted.left._tag === 'CommandFailed' ? mounted.left.stderr.trim() : mounted.left._tag}`);

    const sysfs = `/proc/${k}/root/sys`;
    const macvtapNodes: MacvtapNode[] = [];
    for (const device of o.macvtaps ?? []) {
      const node = readMacvtapNode(sysfs, device);
      if (node === undefined) {
        await cleanup();
        return E.left({ _tag: 'DeviceNotFound', netns: ns.spec, device, detail: 'no macvtap with a tap character device in the pod netns' });
      }
      macvtapNodes.push(node);
    }
    if (macvtapNodes.length > 0) {
      for (const n of macvtapNodes) {
        const made = await run(['mknod', '-m', '0600', `${p.devUpper}/tap${n.ifindex}`, 'c', String(n.major), String(n.minor)])();
        if (E.isLeft(made)) return await failed(`making /dev/tap${n.ifindex} for ${n.device}: ${JSON.stringify(made.left)}`);
      }
      writeFileSync(`${workDir}/fstab-dev`, renderFstab(devFstab(workDir)));
      const dev = await inNs(['mount', '-a', '-T', `${workDir}/fstab-dev`])();
      if (E.isLeft(dev)) return await failed(`mounting /dev with the pod's macvtap nodes: ${dev.left._tag === 'CommandFailed' ? dev.left.stderr.trim() : dev.left._tag}`);
    }

    daemon = execa('nsenter', ['-t', String(k), '-m', '-n', '--', 'libvirtd'], {
      stdin: 'ignore',
      stdout: { file: p.log },
      stderr: { file: p.log },
      reject: false,
      // libvirtd quits on SIGINT and leaves its QEMUs running: only stop() may stop it.
      detached: true,
      env: { LC_ALL: 'C' },
    });
    const d = daemon.pid;
    if (d === undefined) return await failed('libvirtd did not start');
    const end = Date.now() + SOCKET_WAIT_MS;
    while (!existsSync(p.socket)) {
      if (!processAlive(d) || Date.now() > end) return await failed(processAlive(d) ? `no socket after ${SOCKET_WAIT_MS} ms` : 'libvirtd exited');
      await sleep(25);
    }
    const uri = `qemu:///system?socket=${p.socket}`;
    const hostPath = (inside: string) => (inside.startsWith('/run/') ? join(p.run, inside.slice('/run/'.length)) : inside);

    const stop = async (): Promise<readonly string[]> => {
      const left: string[] = [];
      // Domains first: libvirtd's death would leave their QEMUs running.
      const names = await virsh(uri, ['list', '--name'])();
      if (E.isRight(names)) {
        for (const name of names.right.split('\n').map((s) => s.trim()).filter((s) => s !== '')) await virsh(uri, ['destroy', name])();
      }
      const qemus = qemuPids(p.run).filter(isQemu);
      if (qemus.length > 0) {
        left.push(`QEMU ${qemus.join(', ')} outlived destroy (killed)`);
        await killPids(qemus);
      }
      if (processAlive(d)) {
        process.kill(d, 'SIGTERM');
        if (!(await waitGone(d, STOP_GRACE_MS))) {
          left.push(`libvirtd ${d} ignored SIGTERM (killed)`);
          await killPids([d]);
        }
      }
      await daemon?.catch(() => undefined);
      await killPids([k]);
      await keeper?.catch(() => undefined);
      rmSync(workDir, { recursive: true, force: true });
      return left;
    };
    return E.right({
      uri,
      workDir,
      hostPath,
      macvtapNodes,
      ifindexOf: (device) => {
        try {
          return Number(readFileSync(`${sysfs}/class/net/${device}/ifindex`, 'utf8').trim());
        } catch {
          return undefined;
        }
      },
      pid: d,
      stop,
    });
  };
