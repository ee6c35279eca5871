// Runs @tapwire/cni's measure API in a process of its own, which cni-bench
// starts inside a throwaway "host" netns: ptp puts its host-side veth, routes
// and ip_forward there, not in the machine's root netns. Prints one JSON line:
// the measurement, or {"missing": "..."} when the API is not there.
const rounds = Number(process.argv[2] ?? '5');

const main = async (): Promise<void> => {
  let mod: Record<string, unknown>;
  try {
    mod = (await import('@tapwire/cni')) as Record<string, unknown>;
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ missing: `@tapwire/cni does not load: ${e instanceof Error ? e.message : String(e)}` })}\n`);
    return;
  }
  const measure = mod['measureCniAdd'];
  if (typeof measure !== 'function') {
    process.stdout.write(`${JSON.stringify({ missing: '@tapwire/cni exports no measureCniAdd function' })}\n`);
    return;
  }
  const m: unknown = await (measure as (o: { rounds: number }) => Promise<unknown>)({ rounds });
  process.stdout.write(`${JSON.stringify({ measurement: m })}\n`);
};

main().catch((e: unknown) => {
  process.stderr.write(`cni-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
