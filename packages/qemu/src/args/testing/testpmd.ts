// DPDK's testpmd as a real vhost-user backend for tests: io forwarding between
// its ports (0<->1, 2<->3, ...), no hugepages, no PCI, run inside a netns so
// its net_tap ports appear there. Always stopped on teardown: SIGINT (testpmd
// then closes its ports, removes its sockets and prints its statistics),
// SIGKILL if it has not exited in time, then its runtime dir and any socket
// it left are removed. Test-only: nothing here is shipped.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa, type ResultPromise } from 'execa';
import { inNetnsArgv, type NetnsHandle } from '@tapwire/sys';
import { uniqueName } from '@tapwire/testkit';

export const TESTPMD = 'dpdk-testpmd';
/** Where DPDK's EAL keeps its per-prefix runtime files (config, mp_socket). */
const DPDK_RUN_DIR = '/var/run/dpdk';

export type TestpmdPort =
  /** A vhost-user server socket a QEMU connects to. */
  | { readonly kind: 'vhost'; readonly socket: string }
  /** A kernel tap named `iface`, made by testpmd in its netns. */
  | { readonly kind: 'tap'; readonly iface: string };

export interface TestpmdOptions {
  readonly ns: NetnsHandle;
  /** In forwarding order: io mode pairs port 0 with 1, 2 with 3. */
  readonly ports: readonly TestpmdPort[];
  /** rx/tx queues per port; a vhost port offers this many queue pairs. */
  readonly queues: number;
  readonly readyWithinMs: number;
}

export interface PortStats {
  readonly port: number;
  readonly rx: number;
  readonly tx: number;
}

export interface Testpmd {
  readonly prefix: string;
  readonly log: () => string;
  /** Stops testpmd (idempotent); resolves with how it ended and the per-port statistics it printed. */
  readonly stop: () => Promise<{ readonly signal: string | undefined; readonly killed: boolean; readonly stats: readonly PortStats[] }>;
}

/** How long SIGINT gets before SIGKILL: closing a vhost port waits for the QEMU side. */
const STOP_GRACE_MS = 10_000;

const vdev = (p: TestpmdPort, i: number, queues: number): string =>
  p.kind === 'vhost' ? `net_vhost${i},iface=${p.socket},queues=${queues}` : `net_tap${i},iface=${p.iface}`;

export const testpmdArgv = (prefix: string, o: Pick<TestpmdOptions, 'ports' | 'queues'>): string[] => [
  TESTPMD,
  '--no-huge',
  '-m',
  '256',
  '--no-pci',
  // lcore 0 runs the main thread, lcore 1 forwards (and busy-polls).
  '-l',
  '0-1',
  '--file-prefix',
  prefix,
  ...o.ports.flatMap((p, i) => ['--vdev', vdev(p, i, o.queues)]),
  '--',
  '--forward-mode=io',
  '--auto-start',
  '--total-num-mbufs',
  '16384',
  ...(o.queues > 1 ? [`--rxq=${o.queues}`, `--txq=${o.queues}`] : []),
];

/** The "Forward statistics for port N" blocks testpmd prints when it stops. */
export const parsePortStats = (log: string): PortStats[] => {
  const out: PortStats[] = [];
  const re = /Forward statistics for port (\d+)[\s-]*RX-packets:\s*(\d+)[\s\S]*?TX-packets:\s*(\d+)/g;
  for (let m = re.exec(log); m !== null; m = re.exec(log)) out.push({ port: Number(m[1]), rx: Number(m[2]), tx: Number(m[3]) });
  return out;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const startTestpmd = async (t: ExecutionContext, o: TestpmdOptions): Promise<Testpmd> => {
  const prefix = uniqueName('twpmd');
  // Line-buffered: testpmd's stdout is a pipe, and its progress lines are how we know it forwards.
  const [file, ...args] = inNetnsArgv(o.ns, ['stdbuf', '-oL', '-eL', ...testpmdArgv(prefix, o)]);
  let log = '';
  // stdin stays an open pipe: without --interactive, testpmd forwards until
  // a line (or EOF) arrives on stdin, then exits.
  const child: ResultPromise = execa(file ?? 'nsenter', args, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false, cleanup: true });
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => (log += c));
  child.stderr?.on('data', (c: string) => (log += c));
  let exited: { signal: string | undefined } | undefined;
  const done = child.then((r) => {
    exited = { signal: r.signal ?? undefined };
    return exited;
  });

  let stopping: ReturnType<Testpmd['stop']> | undefined;
  const stop: Testpmd['stop'] = () => {
    stopping ??= (async () => {
      let killed = false;
      if (exited === undefined) {
        child.kill('SIGINT');
        const timer = sleep(STOP_GRACE_MS).then(() => 'late' as const);
        if ((await Promise.race([done, timer])) === 'late') {
          killed = true;
          child.kill('SIGKILL');
        }
      }
      const end = await done;
      rmSync(join(DPDK_RUN_DIR, prefix), { recursive: true, force: true });
      for (const p of o.ports) if (p.kind === 'vhost') rmSync(p.socket, { force: true });
      return { signal: end.signal, killed, stats: parsePortStats(log) };
    })();
    return stopping;
  };
  t.teardown(async () => {
    await stop();
  });

  // Ready once forwarding has started: every port is configured by then.
  const deadline = Date.now() + o.readyWithinMs;
  while (!log.includes('Press enter to exit')) {
    if (exited !== undefined) throw new Error(`testpmd exited before forwarding (${exited.signal ?? 'no signal'}):\n${log}`);
    if (Date.now() > deadline) throw new Error(`testpmd not forwarding after ${o.readyWithinMs} ms:\n${log}`);
    await sleep(100);
  }
  return { prefix, log: () => log, stop };
};
