// deploy/manifests read as `kubectl apply -f DIR` reads them (every .yaml/.yml/
// .json file, every document) and each object checked against the Kubernetes
// API schema by kubernetes-models (generated from the OpenAPI spec; ajv).
// Kinds we do not ship have no schema here and are reported, not passed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, ServiceAccount } from 'kubernetes-models/v1';

export interface Manifest {
  /** "file, document n" */
  readonly source: string;
  readonly object: Readonly<Record<string, unknown>>;
}

interface Validatable {
  validate(): void;
}

const MODELS: Readonly<Record<string, (o: never) => Validatable>> = {
  'apps/v1 DaemonSet': (o) => new DaemonSet(o),
  'v1 ConfigMap': (o) => new ConfigMap(o),
  'v1 Namespace': (o) => new Namespace(o),
  'v1 ServiceAccount': (o) => new ServiceAccount(o),
};

const MANIFEST = /\.(ya?ml|json)$/;

/** Every object of every manifest in dir, in file-name order; YAML errors throw naming the file. */
export const readManifests = (dir: string): readonly Manifest[] => {
  const out: Manifest[] = [];
  for (const f of readdirSync(dir).filter((n) => MANIFEST.test(n)).sort()) {
    const file = join(dir, f);
    for (const [i, doc] of parseAllDocuments(readFileSync(file, 'utf8')).entries()) {
      const source = `${file}, document ${i + 1}`;
      if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object: unknown = doc.toJS();
      if (object === null || object === undefined) continue;
      if (typeof object !== 'object' || Array.isArray(object)) throw new Error(`${source}: not an object`);
      out.push({ source, object: object as Record<string, unknown> });
    }
  }
  return out;
};

/** The schema's complaints about one object ([] when valid), each naming the field. */
export const schemaProblems = (m: Manifest): readonly string[] => {
  const key = `${String(m.object['apiVersion'])} ${String(m.object['kind'])}`;
  const model = MODELS[key];
  if (model === undefined) return [`${m.source}: no schema here for ${key} (known: ${Object.keys(MODELS).join(', ')})`];
  try {
    model(m.object as never).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: readonly { instancePath: string; message?: string }[] }).errors;
    if (errors === undefined) return [`${m.source}: ${(e as Error).message}`];
    return errors.map((x) => `${m.source}: ${key} ${x.instancePath === '' ? '(top)' : x.instancePath} ${x.message ?? 'is invalid'}`);
  }
};
