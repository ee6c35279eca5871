// What the plugin bundles use instead of execa: the subset @tapwire/sys and
// ipam.ts call (argv, reject: false, input or stdin 'ignore', env with or
// without extendEnv, stripFinalNewline: false), on node:child_process. execa
// and its dependencies are a third of the bundle and its load time; a runtime
// runs a plugin per pod, so startup counts. Other options are refused loudly.
import { spawn } from 'node:child_process';

export interface ShimOptions {
  readonly reject?: boolean;
  readonly input?: string;
  readonly stdin?: 'ignore';
  readonly env?: NodeJS.ProcessEnv;
  readonly extendEnv?: boolean;
  readonly stripFinalNewline?: boolean;
}

export interface ShimResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | undefined;
  readonly message: string | undefined;
  readonly failed: boolean;
}

const KNOWN = new Set(['reject', 'input', 'stdin', 'env', 'extendEnv', 'stripFinalNewline']);

export const execa = (file: string, args: readonly string[], opts: ShimOptions = {}): Promise<ShimResult> => {
  const unknown = Object.keys(opts).filter((k) => !KNOWN.has(k));
  if (opts.reject !== false || opts.stripFinalNewline !== false || unknown.length > 0) {
    return Promise.reject(new Error(`execa shim: only reject: false and stripFinalNewline: false are supported (got ${JSON.stringify(opts)})`));
  }
  return new Promise((resolve) => {
    const env = opts.extendEnv === false ? opts.env : { ...process.env, ...opts.env };
    const child = spawn(file, [...args], { env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    let done = false;
    const finish = (exitCode: number | undefined, message: string | undefined): void => {
      if (done) return;
      done = true;
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode, message, failed: exitCode !== 0 });
    };
    child.on('error', (e) => finish(undefined, `${file}: ${e.message}`));
    child.on('close', (code, signal) => finish(code ?? undefined, code === 0 ? undefined : `${file} ${code === null ? `killed by ${String(signal)}` : `exited with ${code}`}`));
    if (opts.input !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(opts.input);
    }
  });
};
