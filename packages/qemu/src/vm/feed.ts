// A live feed of values: listeners get what arrives after they subscribe, an
// async iterator ends when the feed ends, and history() keeps the last
// `keep` values so a late reader misses nothing recent (a VM that runs for
// weeks must not keep its whole console in memory). The console and the
// event stream of a VM handle are two feeds.
export interface Feed<T> extends AsyncIterable<T> {
  /** Calls `listener` for every later value; returns the unsubscribe. */
  readonly on: (listener: (value: T) => void) => () => void;
  /** The values kept so far (the last `keep`), oldest first. */
  readonly history: () => readonly T[];
  /** True once the feed ended (the VM exited). */
  readonly ended: () => boolean;
}

export interface FeedWriter<T> {
  readonly feed: Feed<T>;
  readonly push: (value: T) => void;
  readonly end: () => void;
}

export const makeFeed = <T>(keep = 10_000): FeedWriter<T> => {
  const values: T[] = [];
  /** How many values were dropped from the front: value i of the feed is values[i - dropped]. */
  let dropped = 0;
  const listeners = new Set<(value: T) => void>();
  const enders = new Set<() => void>();
  let done = false;
  const on = (listener: (value: T) => void) => {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  };
  const iterate = (): AsyncIterator<T> => {
    // Starts at the values already there: a reader that subscribes late misses nothing.
    let next = 0;
    let wake: (() => void) | undefined;
    const poke = () => wake?.();
    const off = on(poke);
    enders.add(poke);
    return {
      next: async () => {
        // A reader too slow for `keep` skips what was dropped.
        next = Math.max(next, dropped);
        while (next >= dropped + values.length && !done) await new Promise<void>((r) => (wake = r));
        next = Math.max(next, dropped);
        if (next < dropped + values.length) return { value: values[next++ - dropped] as T, done: false };
        off();
        enders.delete(poke);
        return { value: undefined, done: true };
      },
      return: async () => {
        off();
        enders.delete(poke);
        return { value: undefined, done: true };
      },
    };
  };
  return {
    feed: { on, history: () => values, ended: () => done, [Symbol.asyncIterator]: iterate },
    push: (value) => {
      if (done) return;
      values.push(value);
      if (values.length > keep) {
        values.shift();
        dropped++;
      }
      for (const l of [...listeners]) l(value);
    },
    end: () => {
      if (done) return;
      done = true;
      for (const e of [...enders]) e();
    },
  };
};
