import { constants } from 'node:os';
import type { SysError } from '../errors.js';

// os.constants.errno has aliases with the same number; name them the way
// strerror/man pages do.
const PREFERRED = ['EOPNOTSUPP', 'EAGAIN', 'EDEADLK'];

const NAMES: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, n] of Object.entries(constants.errno)) if (!m.has(n)) m.set(n, name);
  for (const name of PREFERRED) {
    const n = (constants.errno as Record<string, number>)[name];
    if (n !== undefined) m.set(n, name);
  }
  return m;
})();

export const errnoName = (errno: number): string => NAMES.get(errno) ?? `E#${errno}`;

export const errnoOf = (name: string): number => (constants.errno as Record<string, number>)[name] ?? -1;

export const syscallFailed = (call: string, errno: number, detail: (code: string) => string): SysError => {
  const code = errnoName(errno);
  return { _tag: 'SyscallFailed', call, errno, code, detail: detail(code) };
};

/** Node fs errors carry errno as a negative number and the name in `code`. */
export const fromNodeError = (call: string, e: unknown, detail: (code: string) => string): SysError => {
  const o = typeof e === 'object' && e !== null ? (e as { errno?: unknown; code?: unknown }) : {};
  const errno = typeof o.errno === 'number' ? Math.abs(o.errno) : 0;
  const code = typeof o.code === 'string' ? o.code : errnoName(errno);
  return { _tag: 'SyscallFailed', call, errno, code, detail: detail(code) };
};
