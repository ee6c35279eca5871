import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SysError } from './errors.js';
import { run, type Ran } from './exec.js';
import type { NetnsHandle } from './netns.js';

/**
 * iproute2's -batch reader splits on blanks, cuts everything after '#', and
 * treats a leading ' or " as a quote up to the same character. A word is
 * written as is, or quoted with the quote it does not contain; a word with
 * '#' or a blank cannot be written at all (callers then fall back to argv).
 */
export const encodeBatchWord = (word: string): E.Either<string, string> => {
  if (word.length === 0 || /[\s#]/.test(word)) return E.left(word);
  if (word[0] !== "'" && word[0] !== '"') return E.right(word);
  if (!word.includes('"')) return E.right(`"${word}"`);
  if (!word.includes("'")) return E.right(`'${word}'`);
  return E.left(word);
};

export const encodeBatchLine = (argv: readonly string[]): E.Either<string, string> =>
  pipe(
    argv.map(encodeBatchWord),
    E.sequenceArray,
    E.map((ws) => ws.join(' ')),
  );

export type BatchTool = 'ip' | 'tc';

/**
 * Runs many ip/tc commands (argv without the tool name) in one process inside
 * the netns. Without force, the tool stops at the first failing line and the
 * error carries its 1-based number, so callers know exactly what took effect.
 * Commands that -batch cannot carry run one process each, in order, with the
 * same failure contract.
 */
export const runBatch = (
  ns: NetnsHandle,
  tool: BatchTool,
  commands: readonly (readonly string[])[],
  opts: { readonly force?: boolean; readonly json?: boolean } = {},
): TE.TaskEither<SysError, Ran> => {
  if (commands.length === 0) return TE.right({ stdout: '', stderr: '' });
  const flags = [...(opts.json === true ? ['-j', '-d'] : []), ...(opts.force === true ? ['-force'] : [])];
  const lines = E.sequenceArray(commands.map(encodeBatchLine));
  if (E.isRight(lines)) {
    return run([tool, ...flags, '-batch', '-'], { netns: ns, input: `${lines.right.join('\n')}\n` });
  }
  return async () => {
    let stdout = '';
    let stderr = '';
    let firstError: SysError | undefined;
    for (const [i, cmd] of commands.entries()) {
      const r = await run([tool, ...(opts.json === true ? ['-j', '-d'] : []), ...cmd], { netns: ns })();
      if (E.isRight(r)) {
        stdout += r.right.stdout;
        stderr += r.right.stderr;
        continue;
      }
      const failed: SysError = r.left._tag === 'CommandFailed' ? { ...r.left, failedLine: i + 1 } : r.left;
      if (opts.force !== true) return E.left(failed);
      firstError ??= failed;
    }
    return firstError === undefined ? E.right({ stdout, stderr }) : E.left(firstError);
  };
};

/** ip -j -batch prints one JSON document per command, each on its own line. */
export const splitBatchJson = (stdout: string): readonly string[] => stdout.split('\n').filter((l) => l.trim().length > 0);

export const runBatchJson = (ns: NetnsHandle, commands: readonly (readonly string[])[]): TE.TaskEither<SysError, readonly string[]> =>
  pipe(
    runBatch(ns, 'ip', commands, { json: true }),
    TE.map((r) => splitBatchJson(r.stdout)),
  );
