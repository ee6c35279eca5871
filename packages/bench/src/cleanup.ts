// Everything the bench makes (netns, QEMU processes, temp dirs) is registered
// here as it is made, so an error, SIGINT or SIGTERM removes it too. Normal
// code paths dispose their own resources with try/finally; this registry is
// the net under them.
//
// A resource can be disposed from two places at once (a signal handler and
// the finally of the code that made it): both then wait for the one disposal,
// so nobody exits while `ip netns del` is still running.

type Disposer = () => Promise<void> | void;

const live = new Map<number, { what: string; dispose: Disposer }>();
const settling = new Map<number, Promise<void>>();
let nextId = 1;
let aborting: string | undefined;

const disposeOne = (id: number): Promise<void> => {
  const running = settling.get(id);
  if (running !== undefined) return running;
  const entry = live.get(id);
  if (entry === undefined) return Promise.resolve();
  live.delete(id);
  const p = (async () => entry.dispose())().finally(() => settling.delete(id));
  settling.set(id, p);
  return p;
};

/**
 * Registers a disposer; the returned function runs it once (later callers
 * wait for that run). After a signal nothing new may be made: track throws.
 */
export const track = (what: string, dispose: Disposer): (() => Promise<void>) => {
  if (aborting !== undefined) throw new Error(`bench: interrupted by ${aborting}, not making ${what}`);
  const id = nextId++;
  live.set(id, { what, dispose });
  return () => disposeOne(id);
};

/** Disposes everything still registered, newest first, and waits for disposals under way elsewhere; returns what failed. */
export const disposeAll = async (): Promise<string[]> => {
  const failed: string[] = [];
  for (const id of [...live.keys()].reverse()) {
    const what = live.get(id)?.what ?? `resource ${id}`;
    try {
      await disposeOne(id);
    } catch (e) {
      failed.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  await Promise.allSettled([...settling.values()]);
  return failed;
};

export const liveResources = (): readonly string[] => [...live.values()].map((e) => e.what);

/**
 * On SIGINT/SIGTERM: refuse new resources, clean up, then exit 130/143. A
 * second signal while cleaning up is ignored on purpose - a half-done cleanup
 * is what leaves netns behind.
 */
export const cleanUpOnSignals = (log: (line: string) => void): void => {
  const handler = (signal: NodeJS.Signals) => {
    if (aborting !== undefined) return;
    aborting = signal;
    log(`bench: ${signal}: cleaning up ${live.size + settling.size} resource(s)`);
    void disposeAll().then((failed) => {
      for (const f of failed) log(`bench: cleanup failed: ${f}`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
};
