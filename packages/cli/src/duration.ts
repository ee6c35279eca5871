import * as E from 'fp-ts/lib/Either.js';
import { usage, type CliError } from './cli-error.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** "500ms", "5s", "2m", or a bare number of seconds. */
export const parseDuration = (flag: string, text: string): E.Either<CliError, number> => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (m?.[1] === undefined) return E.left(usage(`${flag} ${JSON.stringify(text)}: expected a duration like 500ms, 5s or 2m`));
  return E.right(Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000)));
};
