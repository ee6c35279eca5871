// A QEMU child with fds inherited at chosen positions, always killed on teardown.
// node:child_process is used directly: its stdio array takes any fd number at
// any index (index == fd number in the child), which is the point under test.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';

export interface QemuProcess {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  /** Everything QEMU wrote on stdout: the guest's serial console when it is on stdio. */
  readonly stdout: () => string;
  /** Resolves when QEMU has exited, however that happened. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/**
 * Starts `argv` with childFds[i] placed at fd 3+i. childFds must follow the
 * renderer's numbering (assignFdPositions), so the rendered fd=N are right.
 */
export const startQemu = (t: ExecutionContext, argv: readonly string[], childFds: readonly number[] = []): QemuProcess => {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('startQemu: empty argv');
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe', ...childFds] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    stderr += c;
  });
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => {
    stdout += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': by then stderr has been read to the end.
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  t.teardown(async () => {
    if (!done) child.kill('SIGKILL');
    await exited;
  });
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
};

/** Waits for QEMU to exit by itself; a timeout is a failure of the test. */
export const waitForExit = async (q: QemuProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`QEMU still running after ${ms} ms; stderr: ${q.stderr()}`)), ms);
  });
  try {
    return await Promise.race([q.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
};
