// Test support: run the bundled executables as a container runtime does
// (libcni's conflist semantics: ADD in order threading prevResult, CHECK and
// DEL with the list's final result as prevResult, DEL in reverse order).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { bundlePlugins } from './bundle.js';
import { describeForwarderError, installForwarders } from './thick/forwarder.js';

export const REFERENCE_DIR = '/usr/lib/cni';

export interface Invocation {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout as JSON, undefined when empty or not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

export interface PodEnv {
  readonly containerId: string;
  readonly netns: string | undefined;
  readonly ifname: string;
  readonly args?: string;
  readonly path: readonly string[];
}

export const envOf = (command: string, pod: PodEnv): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  CNI_COMMAND: command,
  CNI_CONTAINERID: pod.containerId,
  ...(pod.netns === undefined ? {} : { CNI_NETNS: pod.netns }),
  CNI_IFNAME: pod.ifname,
  CNI_PATH: pod.path.join(':'),
  ...(pod.args === undefined ? {} : { CNI_ARGS: pod.args }),
});

/** A finished plugin process as a test reads it: stdout also as JSON when it is JSON. */
export const invocationOf = (r: { readonly exitCode?: number; readonly stdout: unknown; readonly stderr: unknown }): Invocation => {
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(String(r.stdout)) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), json };
};

export const invoke = async (file: string, env: Record<string, string>, stdin: string): Promise<Invocation> =>
  invocationOf(await execa(file, [], { env, extendEnv: false, input: stdin, reject: false }));

export interface Conflist {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: readonly Record<string, unknown>[];
}

const pluginFile = (type: string, path: readonly string[]): string => {
  const f = path.map((d) => join(d, type)).find((p) => existsSync(p));
  if (f === undefined) throw new Error(`plugin ${type} not on ${path.join(':')}`);
  return f;
};

const confFor = (list: Conflist, plugin: Record<string, unknown>, prev: unknown): string =>
  JSON.stringify({ ...plugin, cniVersion: list.cniVersion, name: list.name, ...(prev === undefined ? {} : { prevResult: prev }) });

/** ADD every plugin in order; stops at the first failure (which it returns). */
export const addList = async (list: Conflist, pod: PodEnv): Promise<{ result: Record<string, unknown> | undefined; steps: Invocation[] }> => {
  let prev: Record<string, unknown> | undefined;
  const steps: Invocation[] = [];
  for (const p of list.plugins) {
    const r = await invoke(pluginFile(String(p['type']), pod.path), envOf('ADD', pod), confFor(list, p, prev));
    steps.push(r);
    if (r.exitCode !== 0) return { result: undefined, steps };
    prev = r.json;
  }
  return { result: prev, steps };
};

/** CHECK or DEL every plugin (DEL in reverse) with the list's result as prevResult. */
export const runList = async (command: 'CHECK' | 'DEL', list: Conflist, pod: PodEnv, result: unknown): Promise<Invocation[]> => {
  const plugins = command === 'DEL' ? [...list.plugins].reverse() : list.plugins;
  const out: Invocation[] = [];
  for (const p of plugins) out.push(await invoke(pluginFile(String(p['type']), pod.path), envOf(command, pod), confFor(list, p, result)));
  return out;
};

/** Bundles the plugins into a fresh temp dir; the caller removes it. */
export const bundleForTests = async (): Promise<string> => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-cni-bin-'));
  await bundlePlugins(dir);
  return dir;
};

/** host-local keeps one file per leased IP (named after it) next to lock and last_reserved_ip.N. */
export const leases = (dataDir: string): string[] => {
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir, { withFileTypes: true }).flatMap((net) =>
    net.isDirectory() ? readdirSync(join(dataDir, net.name)).filter((f) => f !== 'lock' && !f.startsWith('last_reserved_ip')).map((f) => `${net.name}/${f}`) : [],
  );
};

export const tempDir = (prefix: string): { path: string; remove: () => void } => {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
};

/** How the plugin executables of a test run: bundled (standalone) or forwarders to a daemon (thick). */
export type CniMode = 'standalone' | 'thick';

/** The mode a test file runs its plugins in: TAPWIRE_CNI_MODE=thick (set by the *.thick.test files), else standalone. */
export const modeForTests = (): CniMode => (process.env['TAPWIRE_CNI_MODE'] === 'thick' ? 'thick' : 'standalone');

export interface TestPlugins {
  /** The directory holding tap, macvtap and tc-redirect-tap (put it first on CNI_PATH). */
  readonly dir: string;
  /** The thick daemon's socket (undefined standalone). */
  readonly socket: string | undefined;
  /** What the daemon wrote on stderr so far (one line per call). */
  readonly daemonLog: () => string;
  /** Stops the daemon (SIGTERM, then SIGKILL) and removes every file made. */
  readonly stop: () => Promise<void>;
}

const DAEMON_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'entry', 'daemon.js');

/** Starts the daemon on `socket`; resolves once it listens (rejects if it exits first). */
export const startDaemonForTests = async (socket: string): Promise<{ readonly log: () => string; readonly stop: () => Promise<void> }> => {
  const child = spawn(process.execPath, [DAEMON_ENTRY, '--socket', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (b: Buffer) => {
      log += b.toString('utf8');
      if (log.includes('listening on')) resolve();
    });
    void exited.then(() => reject(new Error(`the CNI daemon exited before listening: ${log}`)));
  });
  return {
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
};

/** The plugin executables for this test file's mode (standalone bundles, or forwarders + a daemon). */
export const pluginsForTests = async (mode: CniMode = modeForTests()): Promise<TestPlugins> => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-cni-bin-'));
  if (mode === 'standalone') {
    await bundlePlugins(dir);
    return { dir, socket: undefined, daemonLog: () => '', stop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const socket = join(dir, 'cni.sock');
  const bin = join(dir, 'bin');
  const installed = installForwarders(bin, socket);
  if (E.isLeft(installed)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(describeForwarderError(installed.left));
  }
  const daemon = await startDaemonForTests(socket).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  return {
    dir: bin,
    socket,
    daemonLog: daemon.log,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
