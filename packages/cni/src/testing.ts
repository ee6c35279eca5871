// Test support: run the bundled executables as a container runtime does
// (libcni's conflist semantics: ADD in order threading prevResult, CHECK and
// DEL with the list's final result as prevResult, DEL in reverse order).
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { bundlePlugins } from './bundle.js';

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

export const invoke = async (file: string, env: Record<string, string>, stdin: string): Promise<Invocation> => {
  const r = await execa(file, [], { env, extendEnv: false, input: stdin, reject: false });
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(String(r.stdout)) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), json };
};

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
