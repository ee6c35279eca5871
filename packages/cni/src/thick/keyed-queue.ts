// Runs tasks at once, except tasks with the same key, which run one after the
// other in arrival order: the daemon serves pods in parallel, but the calls of
// one container (ADD, CHECK, DEL racing on a runtime retry) never interleave.
export interface KeyedQueue {
  readonly run: <A>(key: string | undefined, task: () => Promise<A>) => Promise<A>;
  /** Keys with a task running or waiting. */
  readonly busy: () => number;
}

export const keyedQueue = (): KeyedQueue => {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run: <A>(key: string | undefined, task: () => Promise<A>): Promise<A> => {
      if (key === undefined) return task();
      const prev = tails.get(key) ?? Promise.resolve();
      const mine = prev.then(task, task);
      const tail = mine.then(
        () => undefined,
        () => undefined,
      );
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return mine;
    },
    busy: () => tails.size,
  };
};
