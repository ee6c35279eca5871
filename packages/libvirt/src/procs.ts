// Processes the private daemon leaves to watch: liveness by pid, bounded
// waits, and the QEMUs libvirt recorded (pid files in its run dir).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '@tapwire/sys';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const waitGone = async (pid: number, ms: number): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (!processAlive(pid)) return true;
  return !processAlive(pid);
};

/** SIGKILL, then wait (bounded) until each is gone. */
export const killPids = async (pids: readonly number[]): Promise<void> => {
  for (const pid of pids) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const pid of pids) await waitGone(pid, 2_000);
};

export const isQemu = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('qemu');
  } catch {
    return false;
  }
};

/** QEMU pids libvirt recorded for its domains (driver.pid is the daemon's own lock). */
export const qemuPids = (runDir: string): number[] => {
  const dir = `${runDir}/libvirt/qemu`;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pid') && f !== 'driver.pid')
    .flatMap((f) => {
      const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? [pid] : [];
    });
};
