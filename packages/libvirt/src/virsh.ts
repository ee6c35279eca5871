// virsh against one daemon's socket: argv arrays, a refusal is a typed error.
import { execa } from 'execa';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { LibvirtError } from './errors.js';

export const virsh =
  (uri: string, args: readonly string[]): TE.TaskEither<LibvirtError, string> =>
  async () => {
    const r = await execa('virsh', ['-q', '-c', uri, ...args], { reject: false, stdin: 'ignore', env: { LC_ALL: 'C' } });
    if (r.exitCode === 0) return { _tag: 'Right', right: String(r.stdout) };
    return { _tag: 'Left', left: { _tag: 'VirshFailed', argv: args, stderr: String(r.stderr || r.message) } };
  };
