import * as E from 'fp-ts/lib/Either.js';
import { describeCliError, exitCodeOf, usage, type CliError } from './cli-error.js';
import { ATTACH_HELP, attachCommand } from './commands/attach.js';
import { CHECK_HELP, checkCommand } from './commands/check.js';
import { CNI_HELP, cniCommand } from './commands/cni.js';
import { DETACH_HELP, detachCommand } from './commands/detach.js';
import { DEMO_HELP, demoCommand } from './commands/demo.js';
import { INSPECT_HELP, inspectCommand } from './commands/inspect.js';
import { LAUNCH_HELP, launchCommand } from './commands/launch.js';
import { PLAN_HELP, planCommand } from './commands/plan.js';
import { POD_HELP, podCommand } from './commands/pod.js';
import { processOutput, type Output } from './output.js';

type Command = (argv: readonly string[], io: Output) => Promise<E.Either<CliError, void>>;

const COMMANDS: Readonly<Record<string, { run: Command; help: string }>> = {
  inspect: { run: inspectCommand, help: INSPECT_HELP },
  launch: { run: launchCommand, help: LAUNCH_HELP },
  demo: { run: demoCommand, help: DEMO_HELP },
  plan: { run: planCommand, help: PLAN_HELP },
  attach: { run: attachCommand, help: ATTACH_HELP },
  detach: { run: detachCommand, help: DETACH_HELP },
  check: { run: checkCommand, help: CHECK_HELP },
  cni: { run: cniCommand, help: CNI_HELP },
  pod: { run: podCommand, help: POD_HELP },
};

const HELP = `usage: tapwire <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.help.split('\n')[0]}`)
  .join('\n')}

Exit codes: 0 ok, 1 failed, 2 bad command line, 3 netns unusable.`;

/** Runs one CLI invocation and returns its exit code (never throws). */
export const runCli = async (argv: readonly string[], io: Output = processOutput): Promise<number> => {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    io.out(HELP);
    return verb === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[verb];
  if (cmd !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    io.out(cmd.help);
    return 0;
  }
  const result = cmd === undefined ? E.left(usage(`unknown command ${JSON.stringify(verb)}\n${HELP}`)) : await cmd.run(rest, io);
  if (E.isRight(result)) return 0;
  io.err(`tapwire: error: ${describeCliError(result.left)}`);
  return exitCodeOf(result.left);
};
