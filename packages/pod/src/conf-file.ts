// The NAD config file convention (Multus how-to-use): a NAD without
// spec.config names a CNI config in the conf dir (default
// /etc/cni/multus/net.d) whose "name" is the NAD's name; files are looked at
// in name order (.conf, .conflist, .json), as libcni lists a conf dir.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { PodError } from './errors.js';

export const DEFAULT_CONF_DIR = '/etc/cni/multus/net.d';

/** The text and path of the config named `name` in confDir. */
export const findConfFile = (confDir: string, name: string, network: string): E.Either<PodError, { readonly path: string; readonly text: string }> => {
  let files: string[];
  try {
    files = readdirSync(confDir).filter((f) => /\.(conf|conflist|json)$/.test(f)).sort();
  } catch {
    return E.left({ _tag: 'ConfFileNotFound', network, confDir });
  }
  for (const f of files) {
    const path = join(confDir, f);
    try {
      const text = readFileSync(path, 'utf8');
      const o = JSON.parse(text) as { name?: unknown };
      if (o.name === name) return E.right({ path, text });
    } catch {
      // Not a config (or unreadable): libcni skips it too when listing.
    }
  }
  return E.left({ _tag: 'ConfFileNotFound', network, confDir });
};
