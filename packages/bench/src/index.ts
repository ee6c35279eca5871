// @tapwire/bench as a library: what the tests (and anyone timing tapwire
// from code) call. The command is main.ts.
export { runBench, SCALE_QUEUES } from './bench.js';
export type { BenchFlags, BadFlag } from './flags.js';
export { parseFlags, describeBadFlag, USAGE, DEFAULT_SIZES, DEFAULT_RUNS } from './flags.js';
export type { ScaleEntry, ScaleOptions, Method } from './scale.js';
export { runScale, METHODS, METHOD_LABELS } from './scale.js';
export type { PhaseFigures, MethodRun, Phase } from './clock.js';
export { PHASES } from './clock.js';
export type { CliResult, CliEntry } from './cli-bench.js';
export { runCliBench } from './cli-bench.js';
export type { BootResult, BootSide } from './boot-bench.js';
export { runBootBench } from './boot-bench.js';
export type { CniResult, CniTiming } from './cni-bench.js';
export { runCniBench } from './cni-bench.js';
export type { Targets } from './targets.js';
export { targetsOf, FLOOR_TARGET, FLOOR_TARGET_LINKS } from './targets.js';
export type { BenchResults } from './results.js';
export { renderMarkdown } from './report.js';
export { writeRunOutputs, DOCS_DIR, OUTPUT_FILES } from './outputs.js';
export type { OutputTarget } from './outputs.js';
export { renderScaleSvg, renderResultsSvg } from './svg.js';
export { attachCommands, detachCommands, handTargets } from './hand-commands.js';
export { handArgv, handNetdev } from './boot-argv.js';
export { makePod, podAddress } from './pod.js';
export type { Pod } from './pod.js';
