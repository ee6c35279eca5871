// The CNI_* environment, read per command as the spec (1.1, section 2) lists it:
//   ADD, CHECK: CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME required; CNI_ARGS, CNI_PATH optional
//   DEL:        CNI_CONTAINERID, CNI_IFNAME required; CNI_NETNS, CNI_ARGS, CNI_PATH optional
//   STATUS:     CNI_PATH optional;  GC: CNI_PATH required;  VERSION: nothing
// A variable the command does not take is neither read nor validated, as in
// the reference skel: libcni probes every plugin of a conflist with VERSION
// and dummy values (CNI_NETNS=dummy CNI_IFNAME=dummy CNI_PATH=dummy), and a
// plugin that refuses them is skipped by the runtime as if it did not exist.
import * as E from 'fp-ts/lib/Either.js';
import { CODES, cniError, type CniError } from './errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type Command = (typeof COMMANDS)[number];

/** The variables of one call; those its command does not take are undefined (args empty, path []). */
export interface CniEnv {
  readonly command: Command;
  readonly containerId: string | undefined;
  readonly netns: string | undefined;
  readonly ifname: string | undefined;
  /** CNI_ARGS as key/value pairs, in order. */
  readonly args: ReadonlyMap<string, string>;
  readonly path: readonly string[];
}

type Variable = 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME' | 'CNI_ARGS' | 'CNI_PATH';

interface Takes {
  readonly required: readonly Variable[];
  readonly optional: readonly Variable[];
}

export const VARIABLES: Readonly<Record<Command, Takes>> = {
  ADD: { required: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'], optional: ['CNI_ARGS', 'CNI_PATH'] },
  CHECK: { required: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'], optional: ['CNI_ARGS', 'CNI_PATH'] },
  DEL: { required: ['CNI_CONTAINERID', 'CNI_IFNAME'], optional: ['CNI_NETNS', 'CNI_ARGS', 'CNI_PATH'] },
  STATUS: { required: [], optional: ['CNI_PATH'] },
  GC: { required: ['CNI_PATH'], optional: [] },
  VERSION: { required: [], optional: [] },
};

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ARG_KEY = /^[A-Za-z0-9_]+$/;

/** The kernel's dev_valid_name (IFNAMSIZ 16 with the NUL) plus ':', which ip reserves for labels. */
export const validateIfname = (name: string): string | undefined => {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > 15) return `must be 1-15 bytes, is ${bytes}`;
  if (name === '.' || name === '..') return `must not be ${JSON.stringify(name)}`;
  if (/[/:\s]/u.test(name)) return "must not contain '/', ':' or whitespace";
  return undefined;
};

/** "K1=V1;K2=V2": every non-empty piece is one key=value pair. */
export const parseCniArgs = (text: string): E.Either<string, ReadonlyMap<string, string>> => {
  const out = new Map<string, string>();
  for (const piece of text.split(';')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = eq < 0 ? piece : piece.slice(0, eq);
    if (eq < 0 || !ARG_KEY.test(key)) return E.left(`${JSON.stringify(piece)} is not KEY=VALUE with an alphanumeric KEY`);
    out.set(key, piece.slice(eq + 1));
  }
  return E.right(out);
};

const bad = (msg: string, details?: string): E.Either<CniError, never> => E.left(cniError(CODES.invalidEnv, msg, details));

/**
 * The variables `command` takes, validated; the others are undefined (or
 * empty) whatever the environment holds. CNI_NETNS must be an absolute path
 * where it is required (ADD, CHECK); for DEL, which must succeed best-effort,
 * it is passed on as given (a netns that cannot be opened has nothing left to delete).
 */
export const readEnv = (env: NodeJS.ProcessEnv): E.Either<CniError, CniEnv> => {
  const command = env['CNI_COMMAND'];
  if (command === undefined || command === '') return bad('CNI_COMMAND is not set', `expected one of ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(command)) return bad(`unknown CNI_COMMAND ${JSON.stringify(command)}`, `expected one of ${COMMANDS.join(', ')}`);
  const cmd = command as Command;
  const { required, optional } = VARIABLES[cmd];
  const missing = required.filter((k) => (env[k] ?? '') === '');
  if (missing.length > 0) return bad(`required environment variables missing for ${cmd}: ${missing.join(', ')}`);
  const taken = new Set<Variable>([...required, ...optional]);
  const get = (k: Variable): string | undefined => (!taken.has(k) || env[k] === '' ? undefined : env[k]);
  const containerId = get('CNI_CONTAINERID');
  if (containerId !== undefined && !CONTAINER_ID.test(containerId)) {
    return bad(`invalid CNI_CONTAINERID ${JSON.stringify(containerId)}`, 'expected an alphanumeric first character followed by alphanumerics, _, . or -');
  }
  const ifname = get('CNI_IFNAME');
  const ifProblem = ifname === undefined ? undefined : validateIfname(ifname);
  if (ifProblem !== undefined) return bad(`invalid CNI_IFNAME ${JSON.stringify(ifname)}`, `an interface name ${ifProblem}`);
  const netns = get('CNI_NETNS');
  if (netns !== undefined && required.includes('CNI_NETNS') && !netns.startsWith('/')) {
    return bad(`invalid CNI_NETNS ${JSON.stringify(netns)}`, 'expected an absolute path to a network namespace');
  }
  const args = parseCniArgs(get('CNI_ARGS') ?? '');
  if (E.isLeft(args)) return bad('invalid CNI_ARGS', args.left);
  const path = (get('CNI_PATH') ?? '').split(':').filter((p) => p !== '');
  return E.right({ command: cmd, containerId, netns, ifname, args: args.right, path });
};
