// The plugin skeleton: read stdin and the CNI_* environment, validate both,
// dispatch the command, print the result or the error JSON on stdout, and
// answer with an exit code (0, or 1 on any error).
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { decodeConfig, type NetConf } from './spec/config.js';
import { readEnv, type CniEnv } from './spec/env.js';
import { CODES, cniError, encodeError, type CniError } from './spec/errors.js';
import { renderResult, type Result } from './spec/result.js';
import { atLeast, LATEST_VERSION, SUPPORTED_VERSIONS, type CniVersion } from './spec/version.js';

export interface Ctx<C> {
  readonly env: CniEnv;
  /** The whole process environment: delegated plugins get it unchanged. */
  readonly processEnv: NodeJS.ProcessEnv;
  readonly conf: C;
  /** stdin exactly as received: delegated plugins get it unchanged. */
  readonly stdin: string;
  readonly version: CniVersion;
  readonly prevResult: Result | undefined;
  /** Diagnostics for humans: stderr, never stdout. */
  readonly log: (msg: string) => void;
}

export type Outcome<A> = Promise<E.Either<CniError, A>>;

export interface Plugin<C extends NetConf> {
  readonly name: string;
  readonly codec: t.Type<C, unknown, unknown>;
  readonly add: (ctx: Ctx<C>) => Outcome<Omit<Result, 'cniVersion'>>;
  readonly del: (ctx: Ctx<C>) => Outcome<void>;
  readonly check: (ctx: Ctx<C>) => Outcome<void>;
  readonly status: (ctx: Ctx<C>) => Outcome<void>;
  readonly gc: (ctx: Ctx<C>) => Outcome<void>;
}

export interface PluginIo {
  readonly stdin: () => string;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export const processIo = (): PluginIo => ({
  stdin: () => {
    try {
      return readFileSync(0, 'utf8');
    } catch (e) {
      // A closed or absent stdin reads as empty (then it is not a config: code 6).
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EOF' || code === 'EBADF' || code === 'ENXIO') return '';
      throw e;
    }
  },
  env: process.env,
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
});

const fail = (io: PluginIo, e: CniError, version: string | undefined): number => {
  io.out(encodeError(e, version ?? LATEST_VERSION));
  return 1;
};

/** Runs one plugin invocation; never throws, returns the exit code. */
export const runPlugin = async <C extends NetConf>(plugin: Plugin<C>, io: PluginIo): Promise<number> => {
  const log = (msg: string): void => io.err(`${plugin.name}: ${msg}`);
  try {
    const env = readEnv(io.env);
    if (E.isLeft(env)) return fail(io, env.left, undefined);
    const command = env.right.command;
    // VERSION answers from nothing but CNI_COMMAND (stdin only names the caller's version).
    if (command === 'VERSION') {
      io.out(JSON.stringify({ cniVersion: LATEST_VERSION, supportedVersions: SUPPORTED_VERSIONS }));
      return 0;
    }
    let stdin: string;
    try {
      stdin = io.stdin();
    } catch (e) {
      return fail(io, cniError(CODES.ioFailure, 'cannot read the network configuration from stdin', (e as Error).message), undefined);
    }
    const decoded = decodeConfig(stdin, plugin.codec);
    if (E.isLeft(decoded)) return fail(io, decoded.left.error, decoded.left.version);
    const { conf, version, prevResult } = decoded.right;
    if (command === 'CHECK' && !atLeast(version, '0.4.0')) {
      return fail(io, cniError(CODES.incompatibleVersion, `CHECK needs cniVersion 0.4.0 or later, the config says ${version}`), version);
    }
    if ((command === 'STATUS' || command === 'GC') && !atLeast(version, '1.1.0')) {
      return fail(io, cniError(CODES.incompatibleVersion, `${command} needs cniVersion 1.1.0 or later, the config says ${version}`), version);
    }
    const ctx: Ctx<C> = { env: env.right, processEnv: io.env, conf, stdin, version, prevResult, log };
    if (command === 'ADD') {
      const r = await plugin.add(ctx);
      if (E.isLeft(r)) return fail(io, r.left, version);
      io.out(JSON.stringify(renderResult(r.right, version)));
      return 0;
    }
    const verb = { DEL: plugin.del, CHECK: plugin.check, STATUS: plugin.status, GC: plugin.gc }[command];
    const r = await verb(ctx);
    return E.isLeft(r) ? fail(io, r.left, version) : 0;
  } catch (e) {
    return fail(io, cniError(CODES.internal, `${plugin.name}: internal error`, e instanceof Error ? (e.stack ?? e.message) : String(e)), undefined);
  }
};

/** The entry point of a bundled executable. */
export const main = <C extends NetConf>(plugin: Plugin<C>): void => {
  void runPlugin(plugin, processIo()).then((code) => {
    process.exitCode = code;
  });
};
