// Everything the bench makes (netns, QEMU processes, tap fds) is registered
// here as it is made, so an error, SIGINT or SIGTERM removes it too. Normal
// code paths dispose their own resources with try/finally; this registry is
// the net under them.

type Disposer = () => Promise<void> | void;

const live = new Map<number, { what: string; dispose: Disposer }>();
let nextId = 1;

/** Registers a disposer; the returned function runs it once and unregisters it. */
export const track = (what: string, dispose: Disposer): (() => Promise<void>) => {
  const id = nextId++;
  live.set(id, { what, dispose });
  return async () => {
    const entry = live.get(id);
    if (entry === undefined) return;
    live.delete(id);
    await entry.dispose();
  };
};

/** Disposes everything still registered, newest first; returns what failed. */
export const disposeAll = async (): Promise<string[]> => {
  const failed: string[] = [];
  for (const id of [...live.keys()].reverse()) {
    const entry = live.get(id);
    if (entry === undefined) continue;
    live.delete(id);
    try {
      await entry.dispose();
    } catch (e) {
      failed.push(`${entry.what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failed;
};

export const liveResources = (): readonly string[] => [...live.values()].map((e) => e.what);

/**
 * On SIGINT/SIGTERM: clean up, then exit 130/143. A second signal while
 * cleaning up is ignored on purpose - a half-done cleanup is what leaves
 * netns behind.
 */
export const cleanUpOnSignals = (log: (line: string) => void): void => {
  let cleaning = false;
  const handler = (signal: NodeJS.Signals) => {
    if (cleaning) return;
    cleaning = true;
    log(`bench: ${signal}: cleaning up ${live.size} resource(s)`);
    void disposeAll().then((failed) => {
      for (const f of failed) log(`bench: cleanup failed: ${f}`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
};
