// Medians, not means: a single slow run (a page fault storm, a colleague's
// test on the same two cores) must not move the figure we report.

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const hi = s[mid] ?? Number.NaN;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] ?? hi) + hi) / 2;
};

/** Rounded for reports: sub-millisecond detail is noise at these sizes. */
export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** a / b, or null when b is zero or not a number (a ratio that cannot be computed is not 0). */
export const ratio = (a: number, b: number): number | null => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 2) : null);

/** Element-wise medians of records with the same numeric keys. */
export const medianOf = <K extends string>(records: readonly Readonly<Record<K, number>>[], keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, round(median(records.map((r) => r[k])))])) as Record<K, number>;
