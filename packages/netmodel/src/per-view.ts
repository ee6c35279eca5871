// A function of a NetnsView computed once per view: views are never changed
// after they are read, and attach asks the same questions once per endpoint.
import type { NetnsView } from './state.js';

export const perView = <T>(compute: (view: NetnsView) => T): ((view: NetnsView) => T) => {
  const known = new WeakMap<NetnsView, T>();
  return (view) => {
    if (known.has(view)) return known.get(view) as T;
    const value = compute(view);
    known.set(view, value);
    return value;
  };
};
