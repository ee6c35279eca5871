// A private temp directory whose name holds a comma, so every path the tests
// hand to QEMU exercises the escaping. Removed on teardown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

export const makeCommaDir = (t: ExecutionContext): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tw,args-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};
