// Turning the launcher's dry-run command line into the one a person types:
// QEMU opens the tap itself by name (no fds passed), and the QMP socket and
// serial log go to the caller's directory.

/** netdev `tap,id=X,fd=3,vhost=off` -> `tap,id=X,ifname=T,script=no,downscript=no,vhost=off[,queues=N]`. */
export const handNetdev = (netdev: string, tap: string, queues: number): string => {
  const kept = netdev.split(',').filter((o) => !/^(fd|fds|vhost|vhostfd|vhostfds|queues)=/.test(o));
  if (kept[0] !== 'tap') throw new Error(`netdev ${JSON.stringify(netdev)}: expected a tap netdev`);
  return [...kept, `ifname=${tap}`, 'script=no', 'downscript=no', 'vhost=off', ...(queues > 1 ? [`queues=${queues}`] : [])].join(',');
};

/** The dry run's work directory, read off its QMP socket path. */
const dryRunDir = (argv: readonly string[]): string => {
  for (const a of argv) {
    const m = /path=([^,]+)\/qmp\.sock/.exec(a);
    if (m?.[1] !== undefined) return m[1];
  }
  throw new Error('dry-run argv: no QMP socket path found');
};

/** The same command line, taps opened by name, files under workDir. Throws if there is not exactly one tap netdev. */
export const handArgv = (dryRun: readonly string[], tap: string, queues: number, workDir: string): string[] => {
  const dir = dryRunDir(dryRun);
  let netdevs = 0;
  const out = dryRun.map((a, i) => {
    if (dryRun[i - 1] === '-netdev') {
      netdevs += 1;
      return handNetdev(a, tap, queues);
    }
    return a.split(dir).join(workDir);
  });
  if (netdevs !== 1) throw new Error(`dry-run argv: expected one -netdev, found ${netdevs}`);
  return out;
};
