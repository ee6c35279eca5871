// io-ts errors as one readable line each: where in the input, what was
// expected, what was found.
import type * as t from 'io-ts';

/** Keys an intersection or union adds are member numbers, not places in the input. */
const isCombinator = (c: t.ContextEntry | undefined): boolean => {
  const tag = (c?.type as { _tag?: string } | undefined)?._tag;
  return tag === 'IntersectionType' || tag === 'UnionType';
};

export const decodeProblems = (root: string, errors: t.Errors): readonly string[] =>
  errors.map((err) => {
    const path = err.context
      .map((c, i) => (i === 0 || c.key === '' || isCombinator(err.context[i - 1]) ? '' : /^\d+$/.test(c.key) ? `[${c.key}]` : `.${c.key}`))
      .join('');
    const expected = err.context[err.context.length - 1]?.type.name ?? 'a value';
    return err.message ?? `${root}${path}: expected ${expected}, found ${JSON.stringify(err.value)}`;
  });
