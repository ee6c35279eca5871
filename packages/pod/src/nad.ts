// NetworkAttachmentDefinitions read from manifest files as `kubectl apply -f
// DIR` takes them: every .yaml/.yml/.json file in DIR (not recursive) in name
// order, every document of a file (and the items of a kind: List); objects
// of other kinds are not ours and are left alone. An object applied again
// (same namespace/name) replaces the earlier one, as apply does.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { parseAllDocuments } from 'yaml';
import { isNamespace, isObjectName } from './annotation.js';
import { problemsOf, type PodError } from './errors.js';

export const NAD_KIND = 'NetworkAttachmentDefinition';
export const NAD_API_VERSION = 'k8s.cni.cncf.io/v1';
export const RESOURCE_NAME_ANNOTATION = 'k8s.v1.cni.cncf.io/resourceName';

export interface Nad {
  readonly namespace: string;
  readonly name: string;
  /** spec.config as written; absent: the config file convention (conf-file.ts). */
  readonly config?: string;
  readonly resourceName?: string;
  /** Where it was read: "file, document n". */
  readonly source: string;
}

export const nadKey = (namespace: string, name: string): string => `${namespace}/${name}`;

const Meta = t.intersection([t.type({ name: t.string }), t.partial({ namespace: t.string, annotations: t.record(t.string, t.string) })]);
const NadObject = t.intersection([
  t.type({ apiVersion: t.literal(NAD_API_VERSION), kind: t.literal(NAD_KIND), metadata: Meta }),
  t.partial({ spec: t.partial({ config: t.string }) }),
]);
const Typed = t.type({ kind: t.string });

const decodeObject = (o: unknown, file: string, document: number): E.Either<PodError, Nad | undefined> => {
  const bad = (problems: readonly string[]): E.Either<PodError, never> => E.left({ _tag: 'BadManifest', file, document, problems });
  if (!Typed.is(o)) return bad(['not a Kubernetes object (no kind)']);
  if (o.kind !== NAD_KIND) return E.right(undefined);
  const d = NadObject.decode(o);
  if (E.isLeft(d)) return bad(problemsOf(d.left));
  const { metadata, spec } = d.right;
  const namespace = metadata.namespace ?? 'default';
  const problems: string[] = [];
  if (!isObjectName(metadata.name)) problems.push(`metadata.name ${JSON.stringify(metadata.name)} is not a DNS-1123 subdomain`);
  if (!isNamespace(namespace)) problems.push(`metadata.namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`);
  if (problems.length > 0) return bad(problems);
  const resourceName = metadata.annotations?.[RESOURCE_NAME_ANNOTATION];
  return E.right({
    namespace,
    name: metadata.name,
    ...(spec?.config === undefined || spec.config.trim() === '' ? {} : { config: spec.config }),
    ...(resourceName === undefined ? {} : { resourceName }),
    source: `${file}, document ${document}`,
  });
};

/** The NADs of one manifest's text (file names it in errors). */
export const nadsOfManifest = (text: string, file: string): E.Either<PodError, readonly Nad[]> => {
  const out: Nad[] = [];
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return E.left({ _tag: 'BadManifest', file, document: 1, problems: ['not a YAML stream'] });
  for (const [i, doc] of docs.entries()) {
    const document = i + 1;
    if (doc.errors.length > 0) return E.left({ _tag: 'BadManifest', file, document, problems: doc.errors.map((e) => e.message.split('\n')[0] ?? e.message) });
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // an empty document, as kubectl skips
    const listItems = Typed.is(value) && value.kind === 'List' ? (value as { items?: unknown }).items : undefined;
    const items: readonly unknown[] = Array.isArray(listItems) ? listItems : [value];
    for (const item of items) {
      const nad = decodeObject(item, file, document);
      if (E.isLeft(nad)) return nad;
      if (nad.right !== undefined) out.push(nad.right);
    }
  }
  return E.right(out);
};

const MANIFEST = /\.(ya?ml|json)$/;

/** Every NAD in DIR's manifests, keyed namespace/name (later applies win). */
export const readNadDir = (dir: string): E.Either<PodError, ReadonlyMap<string, Nad>> => {
  let files: string[];
  try {
    files = readdirSync(dir, { withFileTypes: true }).filter((f) => f.isFile() && MANIFEST.test(f.name)).map((f) => f.name).sort();
  } catch (e) {
    return E.left({ _tag: 'Io', what: 'reading the NAD directory', path: dir, detail: (e as Error).message });
  }
  const nads = new Map<string, Nad>();
  for (const f of files) {
    const path = join(dir, f);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      return E.left({ _tag: 'Io', what: 'reading a manifest', path, detail: (e as Error).message });
    }
    const found = nadsOfManifest(text, path);
    if (E.isLeft(found)) return found;
    for (const n of found.right) nads.set(nadKey(n.namespace, n.name), n);
  }
  return E.right(nads);
};
