// Runs ip/tc the way a shell script does (one process per call, `-n NS`)
// and counts the processes, for the baselines that do not go through
// @tapwire/sys (whose spawnCount() only sees tapwire's own spawns).
import { execa } from 'execa';

export interface Spawner {
  readonly count: () => number;
  /** Runs file with args (argv, never a shell string); throws on a non-zero exit. */
  readonly run: (file: string, args: readonly string[], input?: string) => Promise<string>;
}

export const spawner = (): Spawner => {
  let n = 0;
  return {
    count: () => n,
    run: async (file, args, input) => {
      n += 1;
      const r = await execa(file, args, {
        reject: false,
        env: { LC_ALL: 'C' },
        ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
      });
      if (r.exitCode !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.exitCode ?? r.signal ?? '?'}: ${String(r.stderr).trim()}`);
      return String(r.stdout);
    },
  };
};
