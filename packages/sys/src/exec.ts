import { execa } from 'execa';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { SysError } from './errors.js';
import type { NetnsHandle } from './netns.js';

export interface Ran {
  readonly stdout: string;
  readonly stderr: string;
}

let spawnCounter = 0;
/** Process spawns made through this module since start: benchmarks and tests assert O(1) per phase. */
export const spawnCount = (): number => spawnCounter;

/** argv run inside a netns: nsenter enters the netns and execs argv, so it stays one process. */
export const inNetnsArgv = (ns: NetnsHandle, argv: readonly string[]): readonly string[] => [
  'nsenter',
  `--net=${ns.path}`,
  '--',
  ...argv,
];

const failedBatchLine = (stderr: string): number | undefined => {
  const m = /Command failed -:(\d+)/.exec(stderr);
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

/** Runs an argv array (never a shell string); a non-zero exit is a CommandFailed. */
export const run = (argv: readonly string[], opts: { readonly input?: string; readonly netns?: NetnsHandle } = {}): TE.TaskEither<SysError, Ran> => {
  const full = opts.netns === undefined ? argv : inNetnsArgv(opts.netns, argv);
  return async () => {
    const [file, ...args] = full;
    if (file === undefined) throw new Error('run: empty argv');
    spawnCounter += 1;
    const r = await execa(file, args, {
      reject: false,
      stripFinalNewline: false,
      ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
      env: { LC_ALL: 'C' },
    });
    const stdout = String(r.stdout ?? '');
    const stderr = String(r.stderr ?? '');
    if (r.exitCode === 0) return { _tag: 'Right', right: { stdout, stderr } };
    return {
      _tag: 'Left',
      left: { _tag: 'CommandFailed', argv, exitCode: r.exitCode, stderr: stderr || (r.message ?? ''), failedLine: failedBatchLine(stderr) },
    };
  };
};
