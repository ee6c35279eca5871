import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { tapPlugin } from '../plugins/tap.js';
import { runPlugin, type PluginIo } from '../skel.js';
import { decodeConfig, NetConf } from './config.js';
import { parseCniArgs, readEnv, validateIfname } from './env.js';
import { CODES } from './errors.js';
import { Result, renderResult, resultProblems } from './result.js';

const env = (over: Record<string, string | undefined>): NodeJS.ProcessEnv => ({
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/var/run/netns/x',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/usr/lib/cni',
  ...over,
});

const codeOf = (e: NodeJS.ProcessEnv): number | undefined => {
  const r = readEnv(e);
  return E.isLeft(r) ? r.left.code : undefined;
};

test('interface names follow the kernel rules', (t) => {
  for (const ok of ['eth0', 'a', 'x'.repeat(15), 'net-1.2_x', 'é'.repeat(7)]) t.is(validateIfname(ok), undefined, ok);
  for (const bad of ['', 'x'.repeat(16), '.', '..', 'a/b', 'a:b', 'a b', 'a\tb', 'é'.repeat(8)]) t.not(validateIfname(bad), undefined, bad);
});

test('environment: each bad or missing variable is code 4', (t) => {
  t.is(codeOf(env({})), undefined);
  t.is(codeOf(env({ CNI_COMMAND: undefined })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_COMMAND: 'add' })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_CONTAINERID: '' })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_CONTAINERID: '-abc' })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_CONTAINERID: 'a b' })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_CONTAINERID: 'A1_b.c-d' })), undefined);
  t.is(codeOf(env({ CNI_IFNAME: 'x'.repeat(16) })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_IFNAME: '..' })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_NETNS: 'relative/ns' })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_NETNS: undefined })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_ARGS: 'FOO' })), CODES.invalidEnv);
  // DEL may come without a netns; GC needs CNI_PATH; VERSION needs nothing.
  t.is(codeOf(env({ CNI_COMMAND: 'DEL', CNI_NETNS: undefined })), undefined);
  t.is(codeOf({ CNI_COMMAND: 'GC' }), CODES.invalidEnv);
  t.is(codeOf({ CNI_COMMAND: 'VERSION' }), undefined);
  t.is(codeOf({ CNI_COMMAND: 'STATUS' }), undefined);
});

/** What libcni's GetVersionInfo sets: dummies for plugins built on an old skel, the rest empty. */
const LIBCNI_VERSION_PROBE = { CNI_COMMAND: 'VERSION', CNI_CONTAINERID: '', CNI_NETNS: 'dummy', CNI_IFNAME: 'dummy', CNI_ARGS: '', CNI_PATH: 'dummy' };

test('environment: a variable the command does not take is neither read nor validated', (t) => {
  const junk = { CNI_CONTAINERID: '-bad id', CNI_NETNS: 'dummy', CNI_IFNAME: 'a:b/c', CNI_ARGS: 'no-pair', CNI_PATH: 'dummy' };
  t.is(codeOf(LIBCNI_VERSION_PROBE), undefined);
  for (const cmd of ['VERSION', 'STATUS', 'GC']) {
    const r = readEnv({ ...junk, CNI_COMMAND: cmd });
    t.true(E.isRight(r), cmd);
    if (E.isRight(r)) t.like(r.right, { containerId: undefined, netns: undefined, ifname: undefined }, cmd);
    if (E.isRight(r)) t.is(r.right.args.size, 0, cmd);
  }
  // STATUS and GC keep CNI_PATH; VERSION takes nothing.
  const status = readEnv({ ...junk, CNI_COMMAND: 'STATUS', CNI_PATH: '/a:/b' });
  t.deepEqual(E.isRight(status) ? status.right.path : undefined, ['/a', '/b']);
  const version = readEnv({ ...junk, CNI_COMMAND: 'VERSION', CNI_PATH: '/a' });
  t.deepEqual(E.isRight(version) ? version.right.path : undefined, []);
  // DEL takes CNI_NETNS as given (best-effort); ADD and CHECK need an absolute path.
  t.is(codeOf(env({ CNI_COMMAND: 'DEL', CNI_NETNS: 'dummy' })), undefined);
  t.is(codeOf(env({ CNI_COMMAND: 'CHECK', CNI_NETNS: 'dummy' })), CODES.invalidEnv);
  // Where a command takes a variable, it is still validated.
  t.is(codeOf(env({ CNI_COMMAND: 'DEL', CNI_IFNAME: 'a:b' })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_COMMAND: 'DEL', CNI_ARGS: 'no-pair' })), CODES.invalidEnv);
  t.is(codeOf(env({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: undefined })), CODES.invalidEnv);
});

test('the skeleton answers libcni\'s VERSION probe with every supported version, whatever stdin holds', async (t) => {
  for (const stdin of ['{"cniVersion":"1.0.0"}', '', 'not json']) {
    const v = io(LIBCNI_VERSION_PROBE, stdin);
    t.is(await runPlugin(tapPlugin, v), 0, stdin);
    t.deepEqual(JSON.parse(v.outs[0] ?? ''), { cniVersion: '1.1.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  }
});

test('DEL with a CNI_NETNS that is no path succeeds (nothing of ours can be there)', async (t) => {
  const d = io(env({ CNI_COMMAND: 'DEL', CNI_NETNS: 'dummy' }), '{"cniVersion":"1.0.0","name":"n","type":"tap"}');
  t.is(await runPlugin(tapPlugin, d), 0, d.outs.join('\n'));
});

test('CNI_ARGS are KEY=VALUE pairs separated by ;', (t) => {
  const r = parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=p;MAC=02:00:00:00:00:01;;EMPTY=');
  t.true(E.isRight(r));
  if (E.isRight(r)) t.deepEqual([...r.right], [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'p'], ['MAC', '02:00:00:00:00:01'], ['EMPTY', '']]);
  t.true(E.isLeft(parseCniArgs('=x')));
  t.true(E.isLeft(parseCniArgs('a-b=1')));
});

test('config: not JSON is 6, no or unknown version is 7 or 1, schema errors are 7 and name the field', (t) => {
  const code = (s: string): number | undefined => {
    const r = decodeConfig(s, NetConf);
    return E.isLeft(r) ? r.left.error.code : undefined;
  };
  t.is(code('{'), CODES.decodeFailure);
  t.is(code('[]'), CODES.decodeFailure);
  t.is(code('{"name":"n","type":"tap"}'), CODES.invalidConfig);
  t.is(code('{"cniVersion":"0.2.0","name":"n","type":"tap"}'), CODES.incompatibleVersion);
  t.is(code('{"cniVersion":"2.0.0","name":"n","type":"tap"}'), CODES.incompatibleVersion);
  t.is(code('{"cniVersion":"1.0.0","name":"-n","type":"tap"}'), CODES.invalidConfig);
  t.is(code('{"cniVersion":"1.0.0","name":"n","type":"tap","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1"}]}}'), CODES.decodeFailure);
  for (const v of ['0.3.1', '0.4.0', '1.0.0', '1.1.0']) t.is(code(`{"cniVersion":"${v}","name":"n","type":"tap"}`), undefined, v);
  const r = decodeConfig('{"cniVersion":"1.0.0","name":"n","type":"tap","mtu":"9000"}', tapPlugin.codec);
  t.true(E.isLeft(r) && r.left.error.code === CODES.invalidConfig && /config\.mtu: expected an MTU/.test(r.left.error.details ?? ''));
  const mac = decodeConfig('{"cniVersion":"1.0.0","name":"n","type":"tap","mac":"01:00:5e:00:00:01"}', tapPlugin.codec);
  t.true(E.isLeft(mac) && /config\.mac/.test(mac.left.error.details ?? ''));
});

test('results render per version: ips carry version before 1.0.0 only', (t) => {
  const r = { interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/x' }], ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }, { address: 'fd00::2/64', interface: 0 }] };
  for (const v of ['0.3.1', '0.4.0']) {
    const out = renderResult(r, v);
    t.deepEqual(out.ips?.map((i) => i.version), ['4', '6']);
    t.true(E.isRight(Result.decode(out)));
    t.deepEqual(resultProblems(out), []);
  }
  for (const v of ['1.0.0', '1.1.0']) {
    const out = renderResult(r, v);
    t.deepEqual(out.ips?.map((i) => i.version), [undefined, undefined]);
    t.deepEqual(resultProblems(out), []);
    t.deepEqual(out.dns, {});
  }
  t.deepEqual(resultProblems({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', interface: 3 }] }), ['ips[0].interface 3 points past interfaces']);
});

const io = (e: NodeJS.ProcessEnv, stdin: string): PluginIo & { outs: string[] } => {
  const outs: string[] = [];
  return { stdin: () => stdin, env: e, out: (s) => outs.push(s), err: () => undefined, outs };
};

test('the skeleton prints VERSION and error JSON with the config version and exits non-zero', async (t) => {
  const v = io({ CNI_COMMAND: 'VERSION' }, '');
  t.is(await runPlugin(tapPlugin, v), 0);
  t.deepEqual(JSON.parse(v.outs[0] ?? ''), { cniVersion: '1.1.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  const bad = io(env({ CNI_IFNAME: 'a:b' }), '{}');
  t.is(await runPlugin(tapPlugin, bad), 1);
  t.like(JSON.parse(bad.outs[0] ?? ''), { code: 4 });
  const check = io(env({ CNI_COMMAND: 'CHECK' }), '{"cniVersion":"0.3.1","name":"n","type":"tap"}');
  t.is(await runPlugin(tapPlugin, check), 1);
  t.like(JSON.parse(check.outs[0] ?? ''), { cniVersion: '0.3.1', code: 1 });
  const gc = io(env({ CNI_COMMAND: 'GC' }), '{"cniVersion":"1.0.0","name":"n","type":"tap"}');
  t.is(await runPlugin(tapPlugin, gc), 1);
  t.like(JSON.parse(gc.outs[0] ?? ''), { code: 1 });
});
