// Runs one CNI plugin executable as a runtime does: found by type on
// CNI_PATH, config on stdin, the CNI_* environment and nothing else, argv
// only. With a node netns the plugin runs inside it (nsenter), so its "host"
// side (bridges, macvlan parents, the device plugin's macvtaps) is that netns.
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import { execa } from 'execa';
import type { PodError } from './errors.js';

export interface PluginCall {
  readonly network: string;
  readonly type: string;
  readonly command: 'ADD' | 'DEL';
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  readonly cniArgs: string;
  readonly cniPath: readonly string[];
  readonly stdin: unknown;
  /** The netns the plugin runs in (a path); the caller's when undefined. */
  readonly nodeNetns?: string;
}

const CniErrorJson = t.intersection([t.type({ msg: t.string }), t.partial({ code: t.number, details: t.string })]);

export const findPlugin = (type: string, cniPath: readonly string[]): string | undefined => {
  if (type.includes('/') || type === '') return undefined;
  for (const dir of cniPath) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next directory
    }
  }
  return undefined;
};

/** PATH for the plugins: the caller's, plus node's directory (our plugins are node scripts). */
const pluginPath = (): string => [dirname(process.execPath), process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin'].join(':');

/** Runs the call; ADD resolves to the parsed stdout, DEL to undefined. */
export const execPlugin = (c: PluginCall): TE.TaskEither<PodError, unknown> => async () => {
  const file = findPlugin(c.type, c.cniPath);
  if (file === undefined) return E.left({ _tag: 'PluginNotFound', network: c.network, type: c.type, cniPath: c.cniPath });
  const argv = c.nodeNetns === undefined ? [file] : ['nsenter', `--net=${c.nodeNetns}`, '--', file];
  const failed = (msg: string, code?: number, details?: string): E.Either<PodError, never> =>
    E.left({ _tag: 'PluginFailed', network: c.network, type: c.type, command: c.command, code, msg, details });
  const r = await execa(argv[0] ?? file, argv.slice(1), {
    env: {
      PATH: pluginPath(),
      CNI_COMMAND: c.command,
      CNI_CONTAINERID: c.containerId,
      CNI_NETNS: c.netns,
      CNI_IFNAME: c.ifname,
      CNI_ARGS: c.cniArgs,
      CNI_PATH: c.cniPath.join(':'),
    },
    extendEnv: false,
    input: JSON.stringify(c.stdin),
    reject: false,
    timeout: 120_000,
  });
  const stdout = String(r.stdout ?? '');
  let parsed: unknown;
  try {
    parsed = stdout.trim() === '' ? undefined : JSON.parse(stdout);
  } catch {
    parsed = undefined;
  }
  if (r.exitCode !== 0) {
    const err = CniErrorJson.decode(parsed);
    if (E.isRight(err)) return failed(err.right.msg, err.right.code, err.right.details);
    return failed(`exit ${r.exitCode ?? r.signal ?? 'unknown'}: ${String(r.stderr ?? '').trim().slice(-500) || stdout.slice(-500) || r.message}`);
  }
  if (c.command === 'DEL') return E.right(undefined);
  if (parsed === undefined) return E.left({ _tag: 'BadResult', network: c.network, type: c.type, problems: [`stdout is not JSON: ${JSON.stringify(stdout.slice(0, 200))}`] });
  return E.right(parsed);
};
