// Every NAD example (deploy/examples, the pod rig's examples, the ones in
// docs/cni.md) read by the pod rig's reader and decoded as our plugins and
// Multus take them; each example NAD lives in one place only.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { nadsOfManifest, readNadDir, type Nad } from '../../pod/dist/index.js';
import { checkNad, REFERENCE_PLUGIN_DIR } from './nads.js';
import { CNI_DOC, NAD_DIRS } from './paths.js';
import { requireCommand } from '@tapwire/testkit';

const nadsIn = (dir: string): readonly Nad[] => {
  const r = readNadDir(dir);
  if (r._tag === 'Left') throw new Error(`${dir}: ${JSON.stringify(r.left)}`);
  return [...r.right.values()];
};

/** The ```yaml blocks of docs/cni.md that are NADs. */
const docNads = (): readonly Nad[] =>
  [...readFileSync(CNI_DOC, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m, i) => {
    const r = nadsOfManifest(m[1] ?? '', `${CNI_DOC} yaml block ${i + 1}`);
    if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
    return r.right;
  });

test('the example NADs: vmnet (bridge -> tc-redirect-tap) in deploy/examples, tap and dataplane in the pod rig, two in docs/cni.md', (t) => {
  const [deploy = '', pod = ''] = NAD_DIRS;
  const summary = (nads: readonly Nad[]): string[] => nads.map((n) => `${n.name}: ${checkNad(n, '/nonexistent').types.join(' -> ')}${n.resourceName === undefined ? '' : ` [${n.resourceName}]`}`).sort();
  t.deepEqual(summary(nadsIn(deploy)), ['vmnet: bridge -> tc-redirect-tap']);
  t.deepEqual(summary(nadsIn(pod)), ['dataplane: macvtap [macvtap.network.kubevirt.io/dataplane]', 'tap: tap']);
  t.deepEqual(summary(docNads()), ['dataplane: macvtap [macvtap.network.kubevirt.io/eth1]', 'vmtap: ptp -> tc-redirect-tap']);
});

test('every example NAD decodes as the CNI config our plugins take (with the deviceID Multus adds), and its other plugins are reference ones', (t) => {
  if (!requireCommand(t, `${REFERENCE_PLUGIN_DIR}/bridge`)) return;
  const all = [...NAD_DIRS.flatMap(nadsIn), ...docNads()];
  t.is(all.length, 5);
  t.deepEqual(all.flatMap((n) => checkNad(n).problems), []);
});

test('example NAD files do not repeat one another (one place per example)', (t) => {
  const names = NAD_DIRS.flatMap(nadsIn).map((n) => n.name);
  t.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), []);
});

test('a NAD our plugin would refuse is reported by NAD, plugin and field', (t) => {
  const bad = nadsOfManifest(
    ['apiVersion: k8s.cni.cncf.io/v1', 'kind: NetworkAttachmentDefinition', 'metadata: {name: badtap}', 'spec:', '  config: \'{"cniVersion": "1.0.0", "name": "badtap", "plugins": [{"type": "tap", "multiQueue": "yes"}, {"type": "nosuch"}]}\''].join('\n'),
    'bad.yaml',
  );
  if (bad._tag === 'Left') return t.fail(JSON.stringify(bad.left));
  const [nad] = bad.right;
  if (nad === undefined) return t.fail('no NAD read');
  const problems = checkNad(nad, REFERENCE_PLUGIN_DIR).problems;
  t.is(problems.length, 2, problems.join('\n'));
  t.regex(problems[0] ?? '', /^default\/badtap \(bad\.yaml, document 1\): plugin 0 \(tap\): invalid network configuration: .*multiQueue/);
  t.regex(problems[1] ?? '', /plugin 1: no nosuch in \/usr\/lib\/cni/);
});
