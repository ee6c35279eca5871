// The one object a bench run produces: printed by --json, kept in
// docs/bench/results.json by --write, rendered to Markdown and SVG.
import type { BootResult } from './boot-bench.js';
import type { CliResult } from './cli-bench.js';
import type { CniResult } from './cni-bench.js';
import type { BenchEnv } from './env.js';
import type { HotplugResult } from './hotplug-bench.js';
import type { LibvirtBenchResult } from './libvirt-bench.js';
import type { PhaseFigures } from './clock.js';
import type { Method, ScaleEntry } from './scale.js';
import type { NetlinkTargets, Targets } from './targets.js';

export type Skipped = { readonly skipped: string };

/**
 * (a2) netlink and (d) pyroute2 came after runs were first kept: a
 * results.json written before them has no figures, ratios or targets of
 * theirs, and the report says "not measured" where they would be.
 */
export type LaterMethod = Extract<Method, 'netlink' | 'pyroute2'>;
type LaterRatio = 'netlinkVsFloor' | 'attachNetlinkVsFloor' | 'netlinkVsPyroute2';
type ByMethod<T> = Readonly<Record<Exclude<Method, LaterMethod>, T>> & Readonly<Partial<Record<LaterMethod, T>>>;

/** A scale entry as results.json keeps it: what runScale gives (ScaleEntry), less what older runs lack. */
export type KeptScaleEntry = Omit<ScaleEntry, 'netlinkMs' | 'pyroute2Ms' | 'phasesMs' | 'spawns' | 'samplesMs' | 'ratios'> & {
  readonly netlinkMs?: number;
  readonly pyroute2Ms?: number;
  readonly phasesMs: ByMethod<PhaseFigures>;
  readonly spawns: ByMethod<PhaseFigures>;
  readonly samplesMs: ByMethod<ScaleEntry['samplesMs'][Method]>;
  readonly ratios: Omit<ScaleEntry['ratios'], LaterRatio> & Partial<Pick<ScaleEntry['ratios'], LaterRatio>>;
};

export interface BenchResults {
  /** loadAvgAtEnd: the 1-minute load average when the last section finished. */
  readonly env: BenchEnv & { readonly loadAvgAtEnd: number };
  readonly options: { readonly sizes: readonly number[]; readonly runs: number; readonly bootRuns: number; readonly queues: number };
  readonly scale: readonly KeptScaleEntry[];
  /** netlink: absent in runs kept before (a2) existed. */
  readonly targets: Omit<Targets, 'netlink'> & { readonly netlink?: NetlinkTargets };
  readonly cli: CliResult;
  readonly boot: BootResult | Skipped;
  readonly cni: CniResult;
  /** Optional: results written before the libvirt section existed have none. */
  readonly libvirt?: LibvirtBenchResult | Skipped;
  /** NIC hotplug/unplug latency next to the same NIC cold-plugged (hotplug-bench.ts); absent in older results. */
  readonly hotplug?: HotplugResult | Skipped;
}

export const isSkipped = (x: object): x is Skipped => 'skipped' in x;
