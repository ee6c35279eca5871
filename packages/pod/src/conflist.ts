// ADD and DEL of one delegate's plugin list, with libcni's semantics: ADD
// runs the plugins in order, each given the previous one's result as
// prevResult, and the last result is the network's; DEL runs them in
// reverse, each given the cached result (0.4.0+), and stops at a failure.
import * as E from 'fp-ts/lib/Either.js';
import type { PodError } from './errors.js';
import { execPlugin, type PluginCall } from './exec.js';
import { delGetsPrevResult, pluginStdin, type Json, type NetConfList } from './netconf.js';
import { decodeCniResult } from './status.js';

export type CallBase = Omit<PluginCall, 'type' | 'command' | 'stdin'>;

export const addList = async (base: CallBase, list: NetConfList, runtimeConfig: Json): Promise<E.Either<PodError, unknown>> => {
  let prev: unknown;
  for (const [i, plugin] of list.plugins.entries()) {
    const type = String(plugin['type']);
    const r = await execPlugin({ ...base, type, command: 'ADD', stdin: pluginStdin(list, i, runtimeConfig, prev) })();
    if (E.isLeft(r)) return r;
    const decoded = decodeCniResult(r.right);
    if (E.isLeft(decoded)) return E.left({ _tag: 'BadResult', network: base.network, type, problems: decoded.left });
    prev = r.right;
  }
  return E.right(prev);
};

export const delList = async (base: CallBase, list: NetConfList, runtimeConfig: Json, cached: unknown): Promise<E.Either<PodError, void>> => {
  const prev = delGetsPrevResult(list.cniVersion) ? cached : undefined;
  for (let i = list.plugins.length - 1; i >= 0; i -= 1) {
    const type = String(list.plugins[i]?.['type']);
    const r = await execPlugin({ ...base, type, command: 'DEL', stdin: pluginStdin(list, i, runtimeConfig, prev) })();
    if (E.isLeft(r)) return r;
  }
  return E.right(undefined);
};
