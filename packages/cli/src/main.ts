// The command table: each verb's usage line, and its module loaded only when
// the verb runs (or prints its own --help). Nothing here imports a command, so
// `tapwire inspect` evaluates inspect's graph and no other verb's (in the
// bundle, bin/tapwire.js, modules behind import() stay unevaluated until called).
import type * as E from 'fp-ts/lib/Either.js';
import type { CliError } from './cli-error.js';
import { processOutput, type Output } from './output.js';

type Run = (argv: readonly string[], io: Output) => Promise<E.Either<CliError, void>>;

export interface CommandModule {
  readonly run: Run;
  /** The verb's whole --help text (its first line is `usage`). */
  readonly help: string;
}

export interface CommandEntry {
  /** The first line of the verb's help, for `tapwire --help` (a test holds it equal to the module's). */
  readonly usage: string;
  readonly load: () => Promise<CommandModule>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  inspect: {
    usage: 'tapwire inspect <netns> [--json] [--dot|--svg] [--wait DURATION] [--vhost-user-dir DIR] [--tap NAME]...',
    load: async () => import('./commands/inspect.js').then((m) => ({ run: m.inspectCommand, help: m.INSPECT_HELP })),
  },
  launch: {
    usage: 'tapwire launch <netns> [--model tcfilter|macvtap|none] [--queues N] [--vhost auto|on|off]',
    load: async () => import('./commands/launch.js').then((m) => ({ run: m.launchCommand, help: m.LAUNCH_HELP })),
  },
  demo: {
    usage: 'tapwire demo [--model M] [--queues N] [--accel auto|kvm|tcg] [--timeout D] [--json]',
    load: async () => import('./commands/demo.js').then((m) => ({ run: m.demoCommand, help: m.DEMO_HELP })),
  },
  plan: {
    usage: 'tapwire plan <netns> <link> [--model tcfilter|macvtap|none] [--queues N] [--tap-name T] [--tap NAME]...',
    load: async () => import('./commands/plan.js').then((m) => ({ run: m.planCommand, help: m.PLAN_HELP })),
  },
  attach: {
    usage: 'tapwire attach <netns> <link>|--all [--model tcfilter|macvtap|none] [--queues N] [--tap-name T] [--tap NAME]...',
    load: async () => import('./commands/attach.js').then((m) => ({ run: m.attachCommand, help: m.ATTACH_HELP })),
  },
  detach: {
    usage: 'tapwire detach <netns> <link>|<tap>|--all [--json]',
    load: async () => import('./commands/detach.js').then((m) => ({ run: m.detachCommand, help: m.DETACH_HELP })),
  },
  check: {
    usage: 'tapwire check <netns> <link>|<tap>|--all [--json]',
    load: async () => import('./commands/check.js').then((m) => ({ run: m.checkCommand, help: m.CHECK_HELP })),
  },
  cni: {
    usage: 'tapwire cni install --dir DIR [--thick] | daemon --socket PATH | measure [--rounds N] [--json] | macvtap-resources [--conf JSON] [--json]',
    load: async () => import('./commands/cni.js').then((m) => ({ run: m.cniCommand, help: m.CNI_HELP })),
  },
  pod: {
    usage: 'tapwire pod up <name> --nad-dir DIR --networks ANNOTATION [--default CONFLIST] | status <name> [--json] | down <name>',
    load: async () => import('./commands/pod.js').then((m) => ({ run: m.podCommand, help: m.POD_HELP })),
  },
  'device-plugin': {
    usage: 'tapwire device-plugin [--dir DIR]',
    load: async () => import('./commands/device-plugin.js').then((m) => ({ run: m.devicePluginCommand, help: m.DEVICE_PLUGIN_HELP })),
  },
  vm: {
    usage: 'tapwire vm start <netns> [--nics none|all] | add <vm> <netns> <link> [--model M] [--queues N] | remove <vm> <link> | list | stop <vm> [--json] [--vm-dir DIR]',
    load: async () => import('./commands/vm.js').then((m) => ({ run: m.vmCommand, help: m.VM_HELP })),
  },
};

const HELP = `usage: tapwire <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}`)
  .join('\n')}

Exit codes: 0 ok, 1 failed, 2 bad command line, 3 netns unusable.`;

/** Runs one CLI invocation and returns its exit code (never throws). */
export const runCli = async (argv: readonly string[], io: Output = processOutput): Promise<number> => {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    io.out(HELP);
    return verb === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(COMMANDS, verb) ? COMMANDS[verb] : undefined;
  if (entry === undefined) {
    io.err(`tapwire: error: unknown command ${JSON.stringify(verb)}\n${HELP}`);
    return 2;
  }
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(cmd.help);
    return 0;
  }
  const result = await cmd.run(rest, io);
  if (result._tag === 'Right') return 0;
  // Error reporting is loaded on the error path only (it knows every package's errors).
  const errors = await import('./cli-error.js');
  io.err(`tapwire: error: ${errors.describeCliError(result.left)}`);
  return errors.exitCodeOf(result.left);
};
