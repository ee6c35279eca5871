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
 * Runs many ip/tc commands (argv without the tool name) inside the netns in as
 * few processes as -batch allows: one, unless some command cannot be written
 * as a batch line (a word with '#' or a blank); then the commands run in
 * order as batch segments with each odd command in a process of its own.
 * Without force the first failure stops everything and its 1-based number in
 * `commands` is reported, so callers know exactly what took effect.
 */
export const runBatch = (
  ns: NetnsHandle,
  tool: BatchTool,
  commands: readonly (readonly string[])[],
  opts: { readonly force?: boolean; readonly json?: boolean } = {},
): TE.TaskEither<SysError, Ran> => {
  if (commands.length === 0) return TE.right({ stdout: '', stderr: '' });
  const segments = segment(commands);
  const only = segments[0];
  if (segments.length === 1 && only !== undefined && only.lines !== undefined) return runSegment(ns, tool, only, opts);
  return async () => {
    let stdout = '';
    let stderr = '';
    let firstError: SysError | undefined;
    for (const seg of segments) {
      const r = await runSegment(ns, tool, seg, opts)();
      if (E.isRight(r)) {
        stdout += r.right.stdout;
        stderr += r.right.stderr;
        continue;
      }
      if (opts.force !== true) return r;
      firstError ??= r.left;
    }
    return firstError === undefined ? E.right({ stdout, stderr }) : E.left(firstError);
  };
};

/** Consecutive commands sharing one process: batch lines, or one odd argv. */
interface Segment {
  /** 0-based index in the caller's commands of the segment's first command. */
  readonly start: number;
  readonly lines: readonly string[] | undefined;
  readonly argv: readonly string[] | undefined;
}

const segment = (commands: readonly (readonly string[])[]): readonly Segment[] => {
  const out: Segment[] = [];
  let run: { start: number; lines: string[] } | undefined;
  for (const [i, cmd] of commands.entries()) {
    const line = encodeBatchLine(cmd);
    if (E.isRight(line)) {
      if (run === undefined) run = { start: i, lines: [] };
      run.lines.push(line.right);
      continue;
    }
    if (run !== undefined) out.push({ start: run.start, lines: run.lines, argv: undefined });
    run = undefined;
    out.push({ start: i, lines: undefined, argv: cmd });
  }
  if (run !== undefined) out.push({ start: run.start, lines: run.lines, argv: undefined });
  return out;
};

const runSegment = (
  ns: NetnsHandle,
  tool: BatchTool,
  seg: Segment,
  opts: { readonly force?: boolean; readonly json?: boolean },
): TE.TaskEither<SysError, Ran> => {
  const json = opts.json === true ? ['-j', '-d'] : [];
  const ran =
    seg.lines !== undefined
      ? run([tool, ...json, ...(opts.force === true ? ['-force'] : []), '-batch', '-'], { netns: ns, input: `${seg.lines.join('\n')}\n` })
      : run([tool, ...json, ...(seg.argv ?? [])], { netns: ns });
  // Line numbers are the caller's: shift the segment's own by where it starts.
  return TE.mapLeft((e: SysError): SysError =>
    e._tag !== 'CommandFailed'
      ? e
      : { ...e, failedLine: seg.lines === undefined ? seg.start + 1 : e.failedLine === undefined ? undefined : seg.start + e.failedLine },
  )(ran);
};

/** ip -j -batch prints one JSON document per command, each on its own line. */
export const splitBatchJson = (stdout: string): readonly string[] => stdout.split('\n').filter((l) => l.trim().length > 0);

export const runBatchJson = (ns: NetnsHandle, commands: readonly (readonly string[])[]): TE.TaskEither<SysError, readonly string[]> =>
  pipe(
    runBatch(ns, 'ip', commands, { json: true }),
    TE.map((r) => splitBatchJson(r.stdout)),
  );
