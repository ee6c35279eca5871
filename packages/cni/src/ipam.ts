// IPAM delegation: the plugin named by ipam.type is found on CNI_PATH and run
// with the same environment (CNI_COMMAND changed for rollbacks) and the same
// stdin. Its error JSON is passed on as it is, code included.
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import type { Ctx } from './skel.js';
import type { NetConf } from './spec/config.js';
import { CODES, cniError, type CniError } from './spec/errors.js';
import { decodeResult, type Result } from './spec/result.js';

/** The first executable regular file named `type` in the CNI_PATH directories. */
export const findPlugin = (type: string, path: readonly string[]): string | undefined => {
  if (type === '' || type.includes('/') || type === '.' || type === '..') return undefined;
  for (const dir of path) {
    const file = join(dir, type);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
};

interface Delegated {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | undefined;
}

const execDelegate = async (file: string, command: string, env: NodeJS.ProcessEnv, stdin: string): Promise<Delegated> => {
  const r = await execa(file, [], { reject: false, input: stdin, env: { ...env, CNI_COMMAND: command }, extendEnv: false, stripFinalNewline: false });
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode };
};

/** A delegate's failure: its own error JSON when it printed one. */
const delegateError = (type: string, command: string, d: Delegated): CniError => {
  try {
    const j = JSON.parse(d.stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof j.code === 'number' && typeof j.msg === 'string') {
      return cniError(j.code, j.msg, typeof j.details === 'string' ? j.details : undefined);
    }
  } catch {
    // not JSON
  }
  return cniError(CODES.ipamFailed, `IPAM plugin ${type} failed on ${command} (exit ${d.exitCode ?? 'signal'})`, (d.stderr || d.stdout).trim().slice(0, 500));
};

/**
 * Runs the IPAM plugin. A 1.1.0 config is retried as 1.0.0 when the plugin
 * says it cannot speak 1.1.0 (Debian's host-local stops at 1.0.0): the two
 * result formats are the same but for optional fields, so nothing is lost.
 */
const delegate = async (ctx: Ctx<NetConf>, command: string): Promise<E.Either<CniError, Delegated>> => {
  const type = ctx.conf.ipam?.type ?? '';
  const file = findPlugin(type, ctx.env.path);
  if (file === undefined) {
    return E.left(cniError(CODES.ipamFailed, `IPAM plugin ${JSON.stringify(type)} not found on CNI_PATH`, `searched ${ctx.env.path.join(':') || '(CNI_PATH is empty)'}`));
  }
  let d = await execDelegate(file, command, ctx.processEnv, ctx.stdin);
  if (d.exitCode !== 0 && ctx.version === '1.1.0' && delegateError(type, command, d).code === CODES.incompatibleVersion) {
    ctx.log(`IPAM plugin ${type} does not speak 1.1.0; calling it with cniVersion 1.0.0`);
    const conf = JSON.parse(ctx.stdin) as Record<string, unknown>;
    d = await execDelegate(file, command, ctx.processEnv, JSON.stringify({ ...conf, cniVersion: '1.0.0' }));
  }
  return d.exitCode === 0 ? E.right(d) : E.left(delegateError(type, command, d));
};

export const hasIpam = (conf: NetConf): boolean => (conf.ipam?.type ?? '') !== '';

export const ipamAdd = async (ctx: Ctx<NetConf>): Promise<E.Either<CniError, Result>> => {
  const d = await delegate(ctx, 'ADD');
  if (E.isLeft(d)) return d;
  let json: unknown;
  try {
    json = JSON.parse(d.right.stdout);
  } catch {
    return E.left(cniError(CODES.ipamFailed, `IPAM plugin ${ctx.conf.ipam?.type ?? ''} printed no JSON result`, d.right.stdout.slice(0, 300)));
  }
  const r = decodeResult('IPAM result', json);
  return E.isLeft(r) ? E.left(cniError(CODES.ipamFailed, `IPAM plugin ${ctx.conf.ipam?.type ?? ''} printed an invalid result`, r.left)) : r;
};

const ipamVerb = (command: string) => async (ctx: Ctx<NetConf>): Promise<E.Either<CniError, void>> => {
  if (!hasIpam(ctx.conf)) return E.right(undefined);
  const d = await delegate(ctx, command);
  return E.isLeft(d) ? d : E.right(undefined);
};

export const ipamDel = ipamVerb('DEL');
export const ipamCheck = ipamVerb('CHECK');

/**
 * STATUS and GC exist from 1.1.0 on; an IPAM plugin that cannot speak 1.1.0
 * has neither, so there is nothing to delegate (said on stderr).
 */
const ipamNewVerb = (command: string) => async (ctx: Ctx<NetConf>): Promise<E.Either<CniError, void>> => {
  if (!hasIpam(ctx.conf)) return E.right(undefined);
  const type = ctx.conf.ipam?.type ?? '';
  const file = findPlugin(type, ctx.env.path);
  if (file === undefined) return E.left(cniError(command === 'STATUS' ? CODES.notAvailable : CODES.ipamFailed, `IPAM plugin ${JSON.stringify(type)} not found on CNI_PATH`));
  const d = await execDelegate(file, command, ctx.processEnv, ctx.stdin);
  if (d.exitCode === 0) return E.right(undefined);
  const e = delegateError(type, command, d);
  // Plugins older than 1.1.0 answer incompatible version, or (Debian's) "unknown CNI_COMMAND" with code 4.
  if (e.code === CODES.incompatibleVersion || (e.code === CODES.invalidEnv && /unknown CNI_COMMAND/i.test(e.msg))) {
    ctx.log(`IPAM plugin ${type} does not support ${command} (no cniVersion 1.1.0); nothing delegated`);
    return E.right(undefined);
  }
  return E.left(e);
};

export const ipamStatus = ipamNewVerb('STATUS');
export const ipamGc = ipamNewVerb('GC');
