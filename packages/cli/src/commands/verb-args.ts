// What the verbs' command lines have in common: node's parseArgs with its
// complaint turned into a usage error followed by the verb's help, the netns
// positional(s) every netns verb starts with, and the options that decide
// which endpoints a scan sees.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { usage, type CliError } from '../cli-error.js';

export interface Verb {
  readonly name: string;
  readonly help: string;
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options, P extends boolean> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: P }>>;

/** `verb: <what>` and the verb's help: exit code 2. */
export const usageOf = (verb: Verb, what: string): CliError => usage(`${verb.name}: ${what}\n${verb.help}`);

/** parseArgs, typed by `options`; positionals are allowed unless told otherwise. */
export const parseVerbArgs = <const O extends Options, const P extends boolean = true>(
  verb: Verb,
  argv: readonly string[],
  options: O,
  o: { readonly positionals?: P } = {},
): E.Either<CliError, Parsed<O, P>> => {
  try {
    return E.right(parseArgs({ args: [...argv], options, allowPositionals: (o.positionals ?? true) as P }));
  } catch (e) {
    return E.left(usageOf(verb, (e as Error).message));
  }
};

/**
 * `<netns>` and nothing else, with options. The netns is only named here, not
 * resolved: a bad option is reported before a missing netns.
 */
export const parseOneNetnsArgs = <const O extends Options>(
  verb: Verb,
  argv: readonly string[],
  options: O,
): E.Either<CliError, { values: Parsed<O, true>['values']; spec: string }> => {
  const parsed = parseVerbArgs(verb, argv, options);
  if (E.isLeft(parsed)) return parsed;
  const [spec, ...extra] = parsed.right.positionals;
  return spec === undefined || extra.length > 0 ? E.left(usageOf(verb, 'expected exactly one netns')) : E.right({ values: parsed.right.values, spec });
};

/** `<netns> <target>`, or `<netns> --all` (target undefined). */
export const netnsAndTargetOrAll = (verb: Verb, positionals: readonly string[], all: boolean): E.Either<CliError, { spec: string; target: string | undefined }> => {
  const [spec, target, ...extra] = positionals;
  return spec === undefined || extra.length > 0 || (target === undefined) === !all
    ? E.left(usageOf(verb, 'expected <netns> and either <link> or --all'))
    : E.right({ spec, target });
};

/** The whole command line of a verb shaped `<netns> <link>|<tap>|--all [--json]`, netns resolved. */
export const parseTargetArgs = (verb: Verb, argv: readonly string[]): E.Either<CliError, { ns: NetnsHandle; target: string | undefined; json: boolean }> => {
  const parsed = parseVerbArgs(verb, argv, { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } });
  if (E.isLeft(parsed)) return parsed;
  const { values, positionals } = parsed.right;
  const args = netnsAndTargetOrAll(verb, positionals, values.all);
  if (E.isLeft(args)) return args;
  const ns = resolveNetns(args.right.spec);
  if (E.isLeft(ns)) return ns;
  return E.right({ ns: ns.right, target: args.right.target, json: values.json });
};

/** --vhost-user-dir and --tap: which endpoints a scan finds (inspect, launch). */
export const SCAN_OPTIONS = {
  'vhost-user-dir': { type: 'string' },
  tap: { type: 'string', multiple: true },
} as const;

export const scanOptionsOf = (values: { 'vhost-user-dir'?: string | undefined; tap?: string[] | undefined }): { vhostUserDir?: string; asTap: string[] } => {
  const vhostUserDir = values['vhost-user-dir'];
  return { ...(vhostUserDir === undefined ? {} : { vhostUserDir }), asTap: values.tap ?? [] };
};
