// One bench run, section by section, into one BenchResults value.
import { loadavg } from 'node:os';
import { runBootBench } from './boot-bench.js';
import { runCliBench } from './cli-bench.js';
import { runCniBench } from './cni-bench.js';
import { benchEnv } from './env.js';
import { runHotplugBench } from './hotplug-bench.js';
import { libvirtSkipReason, runLibvirtBench } from './libvirt-bench.js';
import type { BenchFlags } from './flags.js';
import type { BenchResults } from './results.js';
import { runScale } from './scale.js';
import { targetsOf } from './targets.js';

export const SCALE_QUEUES = 2;

export const runBench = async (flags: BenchFlags, progress: (line: string) => void): Promise<BenchResults> => {
  const env = await benchEnv();
  const scale = await runScale({ sizes: flags.sizes, runs: flags.runs, queues: SCALE_QUEUES, progress });
  const cli = await runCliBench({ sizes: flags.sizes, runs: flags.runs, queues: SCALE_QUEUES, progress });
  const cni = flags.cni ? await runCniBench({ rounds: flags.runs }) : { skipped: '--no-cni' };
  progress(`cni: ${'skipped' in cni ? `skipped (${cni.skipped})` : 'done'}`);
  const boot = flags.boot ? await runBootBench({ runs: flags.bootRuns, progress }) : { skipped: '--no-boot' };
  const hotplug = flags.boot ? await runHotplugBench({ runs: flags.bootRuns, progress }) : { skipped: '--no-boot' };
  const libvirtSkip = flags.boot ? libvirtSkipReason() : '--no-boot';
  const libvirt = libvirtSkip === undefined ? await runLibvirtBench({ runs: flags.bootRuns, progress }) : { skipped: libvirtSkip };
  return {
    env: { ...env, loadAvgAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
    options: { sizes: flags.sizes, runs: flags.runs, bootRuns: flags.bootRuns, queues: SCALE_QUEUES },
    scale,
    targets: targetsOf(scale),
    cli,
    boot,
    cni,
    libvirt,
    hotplug,
  };
};
