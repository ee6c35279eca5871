// The thick mode's plugin executables: the C forwarder compiled once (cc -O2)
// and copied under each plugin's name, since its file name picks the plugin.
// The daemon's socket is compiled in (TAPWIRE_CNI_SOCKET in the environment
// still wins), so a runtime's call needs nothing but the usual CNI_* variables.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { PLUGIN_NAMES, type PluginName } from '../bundle.js';
import { DEFAULT_SOCKET } from './daemon.js';

export const FORWARDER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'forwarder', 'tapwire-cni-shim.c');

export interface ForwarderReport {
  readonly plugin: PluginName;
  readonly file: string;
  readonly bytes: number;
}

export type ForwarderError =
  | { readonly _tag: 'NoCompiler'; readonly tried: readonly string[] }
  | { readonly _tag: 'CompileFailed'; readonly compiler: string; readonly stderr: string }
  | { readonly _tag: 'BadSocketPath'; readonly socket: string; readonly expected: string };

export const describeForwarderError = (e: ForwarderError): string => {
  switch (e._tag) {
    case 'NoCompiler':
      return `no C compiler (tried ${e.tried.join(', ')}; Debian: apt-get install gcc)`;
    case 'CompileFailed':
      return `${e.compiler} failed on ${FORWARDER_SOURCE}: ${e.stderr.trim()}`;
    case 'BadSocketPath':
      return `socket ${JSON.stringify(e.socket)}: expected ${e.expected}`;
  }
};

const COMPILERS = ['cc', 'gcc', 'clang'] as const;

/** A C string literal for -D (the path is checked to be plain first). */
const cString = (s: string): string => `"${s}"`;

/** Compiles the forwarder to `out` with `socket` built in. */
export const compileForwarder = (out: string, socket: string = DEFAULT_SOCKET): E.Either<ForwarderError, void> => {
  // sun_path holds 107 bytes and a NUL; quotes or backslashes would need C escaping, so they are refused.
  if (!socket.startsWith('/') || Buffer.byteLength(socket) > 107 || /["\\\n\0]/.test(socket)) {
    return E.left({ _tag: 'BadSocketPath', socket, expected: 'an absolute path of at most 107 bytes without quotes, backslashes or newlines' });
  }
  for (const cc of COMPILERS) {
    const r = spawnSync(cc, ['-O2', '-o', out, `-DTAPWIRE_CNI_SOCKET=${cString(socket)}`, FORWARDER_SOURCE], { encoding: 'utf8' });
    if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT') continue;
    if (r.status !== 0) return E.left({ _tag: 'CompileFailed', compiler: cc, stderr: `${r.stderr}${r.error?.message ?? ''}` });
    return E.right(undefined);
  }
  return E.left({ _tag: 'NoCompiler', tried: COMPILERS });
};

/** `tapwire cni install --thick`: DIR/tap, DIR/macvtap, DIR/tc-redirect-tap as forwarders to `socket`. */
export const installForwarders = (dir: string, socket: string = DEFAULT_SOCKET, plugins: readonly PluginName[] = PLUGIN_NAMES): E.Either<ForwarderError, ForwarderReport[]> => {
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'tapwire-cni-shim-'));
  try {
    const built = join(work, 'tapwire-cni-shim');
    const c = compileForwarder(built, socket);
    if (E.isLeft(c)) return c;
    return E.right(
      plugins.map((plugin) => {
        const file = join(dir, plugin);
        // Copied, then renamed over: a runtime never runs a half-written file.
        copyFileSync(built, `${file}.tmp`);
        chmodSync(`${file}.tmp`, 0o755);
        renameSync(`${file}.tmp`, file);
        return { plugin, file, bytes: statSync(file).size };
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};
