// The one object a bench run produces: printed by --json, kept in
// docs/bench/results.json by --write, rendered to Markdown and SVG.
import type { BootResult } from './boot-bench.js';
import type { CliResult } from './cli-bench.js';
import type { CniResult } from './cni-bench.js';
import type { BenchEnv } from './env.js';
import type { HotplugResult } from './hotplug-bench.js';
import type { LibvirtBenchResult } from './libvirt-bench.js';
import type { ScaleEntry } from './scale.js';
import type { Targets } from './targets.js';

export type Skipped = { readonly skipped: string };

export interface BenchResults {
  /** loadAvgAtEnd: the 1-minute load average when the last section finished. */
  readonly env: BenchEnv & { readonly loadAvgAtEnd: number };
  readonly options: { readonly sizes: readonly number[]; readonly runs: number; readonly bootRuns: number; readonly queues: number };
  readonly scale: readonly ScaleEntry[];
  readonly targets: Targets;
  readonly cli: CliResult;
  readonly boot: BootResult | Skipped;
  readonly cni: CniResult;
  /** Optional: results written before the libvirt section existed have none. */
  readonly libvirt?: LibvirtBenchResult | Skipped;
  /** NIC hotplug/unplug latency next to the same NIC cold-plugged (hotplug-bench.ts); absent in older results. */
  readonly hotplug?: HotplugResult | Skipped;
}

export const isSkipped = (x: object): x is Skipped => 'skipped' in x;
