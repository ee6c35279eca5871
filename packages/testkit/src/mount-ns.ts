// A private mount namespace for commands a test runs, held open by a sleeping
// process (killed on teardown): mounts made in it are seen nowhere else.
import { readFileSync, readlinkSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { execa, type ResultPromise } from 'execa';

export interface PrivateMountNs {
  /** The holder's pid: `nsenter -t PID -m` enters the namespace. */
  readonly pid: string;
  /** Runs argv in the namespace (never rejects; the result says how it ended). */
  readonly run: (argv: readonly string[], o: { readonly timeout: number; readonly env?: Record<string, string> }) => ResultPromise<{ reject: false }>;
}

/**
 * Makes the namespace and returns once the holder is really in it: until
 * unshare has run, the holder shares ours, where a mount would reach everyone.
 */
export const privateMountNs = async (t: ExecutionContext): Promise<PrivateMountNs> => {
  const holder = execa('unshare', ['--mount', '--propagation', 'slave', 'sleep', 'infinity'], { reject: false });
  t.teardown(() => {
    holder.kill('SIGKILL');
  });
  const pid = String(holder.pid);
  const ours = readlinkSync('/proc/self/ns/mnt');
  const unshared = (): boolean => {
    try {
      return readlinkSync(`/proc/${pid}/ns/mnt`) !== ours && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep';
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 250 && !unshared(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!unshared()) throw new Error(`unshare --mount (pid ${pid}) did not get a mount namespace of its own`);
  return {
    pid,
    run: (argv, o) => execa('nsenter', ['-t', pid, '-m', ...argv], { reject: false, timeout: o.timeout, ...(o.env === undefined ? {} : { env: o.env }) }),
  };
};
