// Everything `pod up` reads before it changes anything: the annotation, the
// NADs of the manifest dir, the default network's config file, the conf dir
// for NADs without spec.config; all turned into the delegation plan.
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { parseNetworksAnnotation } from './annotation.js';
import { findConfFile } from './conf-file.js';
import type { PodError } from './errors.js';
import { readNadDir } from './nad.js';
import { planDelegates, specConfigOr, type Delegate } from './plan.js';

export interface LoadOptions {
  readonly namespace: string;
  readonly nadDir: string;
  readonly networks: string;
  readonly defaultConf?: string;
  readonly confDir: string;
}

export const loadPlan = (o: LoadOptions): E.Either<PodError, readonly Delegate[]> => {
  const selections = parseNetworksAnnotation(o.networks, o.namespace);
  if (E.isLeft(selections)) return selections;
  const nads = readNadDir(o.nadDir);
  if (E.isLeft(nads)) return nads;
  let defaultNet: { text: string; source: string } | undefined;
  if (o.defaultConf !== undefined) {
    try {
      defaultNet = { text: readFileSync(o.defaultConf, 'utf8'), source: o.defaultConf };
    } catch (e) {
      return E.left({ _tag: 'Io', what: 'reading the default network config', path: o.defaultConf, detail: (e as Error).message });
    }
  }
  const fromConfDir = specConfigOr((nad) => {
    const f = findConfFile(o.confDir, nad.name, `${nad.namespace}/${nad.name}`);
    return E.map((x: { path: string; text: string }) => ({ text: x.text, source: x.path }))(f);
  });
  return planDelegates(defaultNet, selections.right, nads.right, fromConfDir);
};
