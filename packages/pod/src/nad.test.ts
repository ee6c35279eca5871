import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { describePodError } from './errors.js';
import { nadsOfManifest, readNadDir } from './nad.js';
import { DATAPLANE_NAD } from './testing/rig.js';

// The macvtap-cni README's NAD, as a file with a ConfigMap and an empty document.
const DATAPLANE = `kind: ConfigMap
apiVersion: v1
metadata:
  name: macvtap-deviceplugin-config
data:
  DP_MACVTAP_CONF: '[]'
---
---
${DATAPLANE_NAD}`;

test('multi-document manifests: NADs taken, other kinds and empty documents left alone, namespace defaults to default', (t) => {
  const r = nadsOfManifest(DATAPLANE, 'dp.yaml');
  if (E.isLeft(r)) return t.fail(describePodError(r.left));
  t.is(r.right.length, 1);
  const nad = r.right[0];
  t.like(nad, { namespace: 'default', name: 'dataplane', resourceName: 'macvtap.network.kubevirt.io/dataplane', source: 'dp.yaml, document 3' });
  t.deepEqual(JSON.parse(nad?.config ?? ''), { cniVersion: '0.3.1', name: 'dataplane', type: 'macvtap', mtu: 1500 });
});

test('no spec (the config file convention), a namespace, and kind: List items', (t) => {
  const r = nadsOfManifest(
    `apiVersion: v1\nkind: List\nitems:\n- apiVersion: k8s.cni.cncf.io/v1\n  kind: NetworkAttachmentDefinition\n  metadata: {name: macvlan-conf-2, namespace: testns1}\n`,
    'list.yaml',
  );
  if (E.isLeft(r)) return t.fail(describePodError(r.left));
  t.deepEqual(r.right, [{ namespace: 'testns1', name: 'macvlan-conf-2', source: 'list.yaml, document 1' }]);
});

test('errors name the file and the document', (t) => {
  const bad = (text: string): string => {
    const r = nadsOfManifest(text, 'x.yaml');
    return E.isLeft(r) ? describePodError(r.left) : 'parsed';
  };
  t.regex(bad('kind: NetworkAttachmentDefinition\napiVersion: k8s.cni.cncf.io/v1beta1\nmetadata: {name: a}\n'), /^x\.yaml, document 1: apiVersion: expected "k8s\.cni\.cncf\.io\/v1"/);
  t.regex(bad('---\nkind: Pod\n---\nkind: NetworkAttachmentDefinition\napiVersion: k8s.cni.cncf.io/v1\nmetadata: {name: Bad}\n'), /^x\.yaml, document 2: metadata\.name "Bad"/);
  t.regex(bad('a: [1,\n'), /^x\.yaml, document 1: /);
  t.regex(bad('kind: NetworkAttachmentDefinition\napiVersion: k8s.cni.cncf.io/v1\nmetadata: {name: a}\nspec: {config: {type: bridge}}\n'), /spec\.config: expected string/);
  t.regex(bad('- 1\n'), /not a Kubernetes object/);
});

test('a manifest dir as kubectl apply -f DIR reads it: yaml/yml/json files in name order, a later apply of the same NAD wins, other files ignored', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'twnad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nad = (config: string) => ({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'net-a' }, spec: { config } });
  writeFileSync(join(dir, '10-a.json'), JSON.stringify(nad('{"cniVersion":"1.0.0","type":"ptp"}')));
  writeFileSync(join(dir, '20-a.yml'), `apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {name: net-a}\nspec:\n  config: '{"cniVersion":"1.0.0","type":"bridge"}'\n`);
  writeFileSync(join(dir, 'notes.txt'), 'kind: NetworkAttachmentDefinition');
  const r = readNadDir(dir);
  if (E.isLeft(r)) return t.fail(describePodError(r.left));
  t.deepEqual([...r.right.keys()], ['default/net-a']);
  t.like(r.right.get('default/net-a'), { config: '{"cniVersion":"1.0.0","type":"bridge"}', source: `${join(dir, '20-a.yml')}, document 1` });
  const missing = readNadDir(join(dir, 'nope'));
  t.true(E.isLeft(missing) && /reading the NAD directory/.test(describePodError(missing.left)));
});
