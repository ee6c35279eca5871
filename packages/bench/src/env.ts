// Where a result came from: without the machine, kernel, tool versions and
// load next to them, numbers from different runs cannot be compared.
import { cpus, loadavg, release } from 'node:os';
import { execa } from 'execa';

export interface BenchEnv {
  readonly date: string;
  readonly kernel: string;
  readonly node: string;
  readonly cpuCount: number;
  readonly cpuModel: string;
  readonly iproute2: string;
  readonly qemu: string;
  /** HEAD, marked when tracked files outside docs/bench differ from it (the tree is shared while we measure). */
  readonly commit: string;
  /** 1-minute load average when the bench started: other work on the same cores skews every figure. */
  readonly loadAvgAtStart: number;
}

const firstLine = async (file: string, args: readonly string[]): Promise<string> => {
  const r = await execa(file, args, { reject: false });
  return (String(r.stdout).split('\n')[0] ?? '').trim() || 'unknown';
};

export const benchEnv = async (): Promise<BenchEnv> => {
  const [iproute2, qemu, commit, dirty] = await Promise.all([
    firstLine('ip', ['-V']),
    firstLine('qemu-system-x86_64', ['--version']),
    firstLine('git', ['rev-parse', '--short', 'HEAD']),
    // The bench's own output under docs/bench does not make the measured code dirty.
    execa('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!docs/bench'], { reject: false }).then((r) => String(r.stdout).trim() !== ''),
  ]);
  return {
    date: new Date().toISOString(),
    kernel: release(),
    node: process.version,
    cpuCount: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    iproute2,
    qemu,
    commit: dirty ? `${commit} (with uncommitted changes)` : commit,
    loadAvgAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
};
