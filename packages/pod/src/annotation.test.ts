import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { parseNetworksAnnotation } from './annotation.js';
import { describePodError } from './errors.js';

const ok = (text: string, ns = 'default') => {
  const r = parseNetworksAnnotation(text, ns);
  if (E.isLeft(r)) throw new Error(describePodError(r.left));
  return r.right;
};
const problems = (text: string): string => {
  const r = parseNetworksAnnotation(text, 'default');
  return E.isLeft(r) ? describePodError(r.left) : 'parsed';
};

test('short form: names, namespaces and interfaces (Multus how-to-use)', (t) => {
  t.deepEqual(ok('macvlan-conf-1, macvlan-conf-2', 'mine'), [
    { name: 'macvlan-conf-1', namespace: 'mine' },
    { name: 'macvlan-conf-2', namespace: 'mine' },
  ]);
  t.deepEqual(ok('testns1/macvlan-conf-3'), [{ name: 'macvlan-conf-3', namespace: 'testns1' }]);
  t.deepEqual(ok('dataplane, vmtap@net2'), [{ name: 'dataplane', namespace: 'default' }, { name: 'vmtap', namespace: 'default', interface: 'net2' }]);
  t.deepEqual(ok('ns/a@if'), [{ name: 'a', namespace: 'ns', interface: 'if' }]);
  t.deepEqual(ok('  '), []);
});

test('JSON form: the seeds\' examples (tap with namespace/interface/mac, macvtap with mac)', (t) => {
  t.deepEqual(ok('[{"name":"tap","namespace":"mmirecki","interface":"ext0","mac":"50:00:00:00:00:10"}]'), [
    { name: 'tap', namespace: 'mmirecki', interface: 'ext0', mac: '50:00:00:00:00:10' },
  ]);
  t.deepEqual(ok('[\n { "name":"dataplane", "mac": "02:23:45:67:89:01" }\n]\n', 'vms'), [{ name: 'dataplane', namespace: 'vms', mac: '02:23:45:67:89:01' }]);
  t.deepEqual(ok('[{"name":"macvlan-conf","ips":["10.1.1.101/24"],"default-route":["10.1.1.1"],"cni-args":{"x":1}}]'), [
    { name: 'macvlan-conf', namespace: 'default', ips: ['10.1.1.101/24'], defaultRoute: ['10.1.1.1'], cniArgs: { x: 1 } },
  ]);
});

test('bad annotations name the element and what was expected', (t) => {
  t.regex(problems('a/b/c'), /element 1: "a\/b\/c" has more than one/);
  t.regex(problems('ok, Bad_Name'), /element 2: name "Bad_Name" is not a DNS-1123 subdomain/);
  t.regex(problems('a@'), /empty interface/);
  t.regex(problems('[{"name":"a","mac":"01:00:00:00:00:01"}]'), /not a unicast MAC/);
  t.regex(problems('[{"name":"a","ips":["10.0.0.300/24"]}]'), /ips entry "10.0.0.300\/24"/);
  t.regex(problems('[{"nam":"a"}]'), /0\.name: expected string/);
  t.regex(problems('[{"name":"a"}'), /not JSON/);
});
