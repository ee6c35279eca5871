// The CNI_* environment, validated per command as the spec lists it:
//   ADD, CHECK: CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME required
//   DEL:        CNI_CONTAINERID, CNI_IFNAME required (CNI_NETNS optional)
//   GC:         CNI_PATH required;  STATUS, VERSION: nothing more
// CNI_ARGS and CNI_PATH are optional elsewhere (a plugin that delegates to
// IPAM asks for CNI_PATH when it needs it).
import * as E from 'fp-ts/lib/Either.js';
import { CODES, cniError, type CniError } from './errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CniEnv {
  readonly command: Command;
  readonly containerId: string | undefined;
  readonly netns: string | undefined;
  readonly ifname: string | undefined;
  /** CNI_ARGS as key/value pairs, in order. */
  readonly args: ReadonlyMap<string, string>;
  readonly path: readonly string[];
}

const REQUIRED: Readonly<Record<Command, readonly string[]>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  GC: ['CNI_PATH'],
  STATUS: [],
  VERSION: [],
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

export const readEnv = (env: NodeJS.ProcessEnv): E.Either<CniError, CniEnv> => {
  const command = env['CNI_COMMAND'];
  if (command === undefined || command === '') return bad('CNI_COMMAND is not set', `expected one of ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(command)) return bad(`unknown CNI_COMMAND ${JSON.stringify(command)}`, `expected one of ${COMMANDS.join(', ')}`);
  const cmd = command as Command;
  const missing = REQUIRED[cmd].filter((k) => (env[k] ?? '') === '');
  if (missing.length > 0) return bad(`required environment variables missing for ${cmd}: ${missing.join(', ')}`);
  const get = (k: string): string | undefined => (env[k] === '' ? undefined : env[k]);
  const containerId = get('CNI_CONTAINERID');
  if (containerId !== undefined && !CONTAINER_ID.test(containerId)) {
    return bad(`invalid CNI_CONTAINERID ${JSON.stringify(containerId)}`, 'expected an alphanumeric first character followed by alphanumerics, _, . or -');
  }
  const ifname = get('CNI_IFNAME');
  const ifProblem = ifname === undefined ? undefined : validateIfname(ifname);
  if (ifProblem !== undefined) return bad(`invalid CNI_IFNAME ${JSON.stringify(ifname)}`, `an interface name ${ifProblem}`);
  const netns = get('CNI_NETNS');
  if (netns !== undefined && !netns.startsWith('/')) return bad(`invalid CNI_NETNS ${JSON.stringify(netns)}`, 'expected an absolute path to a network namespace');
  const args = parseCniArgs(env['CNI_ARGS'] ?? '');
  if (E.isLeft(args)) return bad('invalid CNI_ARGS', args.left);
  const path = (env['CNI_PATH'] ?? '').split(':').filter((p) => p !== '');
  return E.right({ command: cmd, containerId, netns, ifname, args: args.right, path });
};
