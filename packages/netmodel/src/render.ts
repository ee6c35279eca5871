// Plans as the exact command lines a human could paste into a shell.
import type { Argv, Plan, Tool } from './model.js';

const SAFE_WORD = /^[A-Za-z0-9_.:/,+=@%-]+$/;

/** POSIX-shell quoting: safe words as they are, everything else in single quotes. */
export const shellQuote = (word: string): string => (SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

export const renderCommand = (tool: Tool, argv: Argv): string => [tool, ...argv].map(shellQuote).join(' ');

export const renderPlan = (plan: Plan): string[] => plan.phases.flatMap((p) => p.ops.map((o) => renderCommand(p.tool, o.argv)));

/** The commands that would undo the whole plan, in the order they would run. */
export const renderUndo = (plan: Plan): string[] =>
  [...plan.phases].reverse().flatMap((p) => [...p.ops].reverse().flatMap((o) => o.undo.map((u) => renderCommand(p.tool, u))));
