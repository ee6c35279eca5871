import * as t from 'io-ts';

/** Turns io-ts errors into `where: expected X, got Y` lines that name the field. */
export const reportDecodeErrors = (root: string, errors: t.Errors): readonly string[] => {
  const lines = errors.map((err) => {
    // An intersection or union adds a context entry keyed by member index;
    // it is not a field of the input, so it is left out of the path.
    const path = err.context
      .map((c, i) => ({ c, parent: err.context[i - 1]?.type }))
      .slice(1)
      .filter(({ parent }) => !(parent instanceof t.IntersectionType || parent instanceof t.UnionType))
      .map(({ c }) => (/^\d+$/.test(c.key) ? `[${c.key}]` : `.${c.key}`))
      .join('');
    const last = err.context[err.context.length - 1];
    const expected = last?.type.name ?? 'a valid value';
    const got = err.value === undefined ? 'nothing' : JSON.stringify(err.value)?.slice(0, 60) ?? String(err.value);
    return `${root}${path}: expected ${expected}, got ${got}`;
  });
  return [...new Set(lines)];
};
