import { accessSync, constants } from 'node:fs';
import type { ExecutionContext } from 'ava';

/** Under CI=true a missing prerequisite is a failure, never a skip. */
export const ciStrict = (): boolean => process.env['CI'] === 'true';

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Returns true when the test may go on. Locally without root the test is
 * reported as passed-with-note (ava has no runtime skip); under CI it fails.
 */
export const requireRoot = (t: ExecutionContext): boolean => {
  if (isRoot()) return true;
  if (ciStrict()) {
    t.fail('this test needs root and CI=true forbids skipping it');
    return false;
  }
  t.log('SKIPPED: needs root');
  t.pass();
  return false;
};

const onPath = (cmd: string): boolean =>
  (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .some((dir) => {
      try {
        accessSync(`${dir}/${cmd}`, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });

/** Same contract as requireRoot, for an executable the test needs. */
export const requireCommand = (t: ExecutionContext, cmd: string): boolean => {
  if (cmd.startsWith('/') ? (() => { try { accessSync(cmd, constants.X_OK); return true; } catch { return false; } })() : onPath(cmd)) return true;
  if (ciStrict()) {
    t.fail(`this test needs ${cmd} and CI=true forbids skipping it`);
    return false;
  }
  t.log(`SKIPPED: needs ${cmd}`);
  t.pass();
  return false;
};
