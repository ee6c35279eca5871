// Runs one QEMU process inside the pod netns with its queue fds at fixed
// positions, the serial console piped to us (and a log), QMP on a socket.
// Whatever happens - exit, error, timeout, SIGINT/SIGTERM - the process is gone
// when this resolves.
import { appendFileSync } from 'node:fs';
import { execa } from 'execa';
import type { NetnsHandle } from '@tapwire/sys';
import { inNetnsArgv } from '@tapwire/sys';

export interface VmRun {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** Everything the guest wrote on its serial console. */
  readonly console: string;
  readonly stderr: string;
  /** Why we stopped it, when we did. */
  readonly stoppedBecause: 'done' | 'timeout' | 'signal' | 'stalled' | undefined;
  readonly ms: number;
}

export interface SpawnVmOptions {
  readonly ns: NetnsHandle;
  /** qemu-system-x86_64 and its arguments (serial on stdio). */
  readonly argv: readonly string[];
  /** fds[i] is passed as fd 3+i in QEMU; argv must refer to them by those numbers. */
  readonly fds: readonly number[];
  readonly timeoutMs: number;
  readonly serialLog?: string;
  /** Resolves the run early (QEMU is stopped) once the console says so. */
  readonly doneWhen?: (console: string) => boolean;
  /** Stop as 'stalled' when the console has not matched this by then (e.g. a hung KVM). */
  readonly progress?: { readonly marker: RegExp; readonly withinMs: number };
  readonly onConsole?: (chunk: string) => void;
  /** Called once QEMU has been forked with the fds: the parent's copies may be closed then. */
  readonly onSpawned?: () => void;
}

export const spawnVm = async (o: SpawnVmOptions): Promise<VmRun> => {
  const [file, ...args] = inNetnsArgv(o.ns, o.argv);
  const start = Date.now();
  const child = execa(file ?? 'nsenter', args, {
    // execa passes integer fds through to node's spawn (fd i of the child = stdio[i]);
    // its types do not list numbers for extra fds, so the array is cast.
    stdio: ['ignore', 'pipe', 'pipe', ...o.fds] as unknown as ['ignore', 'pipe', 'pipe'],
    reject: false,
    encoding: 'utf8',
    buffer: false,
    // QEMU must not outlive us: if node dies, its stdin/pipes close, but a
    // SIGKILL of node would still orphan it; we kill it on every exit path.
    cleanup: true,
    killSignal: 'SIGKILL',
  });
  o.onSpawned?.();
  let consoleText = '';
  let stderr = '';
  let stoppedBecause: VmRun['stoppedBecause'];
  const stop = (why: NonNullable<VmRun['stoppedBecause']>) => {
    if (stoppedBecause === undefined) stoppedBecause = why;
    child.kill('SIGKILL');
  };
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    consoleText += chunk;
    if (o.serialLog !== undefined) appendFileSync(o.serialLog, chunk);
    o.onConsole?.(chunk);
    if (o.doneWhen?.(consoleText) === true) stop('done');
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => stop('timeout'), o.timeoutMs);
  const progressTimer =
    o.progress === undefined
      ? undefined
      : setTimeout(() => {
          if (o.progress !== undefined && !o.progress.marker.test(consoleText)) stop('stalled');
        }, o.progress.withinMs);
  const onSignal = () => stop('signal');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await child;
    return {
      exitCode: r.exitCode,
      signal: r.signal,
      console: consoleText,
      stderr,
      stoppedBecause,
      ms: Date.now() - start,
    };
  } finally {
    clearTimeout(timer);
    if (progressTimer !== undefined) clearTimeout(progressTimer);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
};
