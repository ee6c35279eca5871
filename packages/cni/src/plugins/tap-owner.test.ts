// The tap plugin's CHECK compares owner and group as numbers: iproute2 prints
// them as names when passwd/group have one ("nobody", "cloudsdk"), which CHECK
// once read as "owned by undefined". Also: tc-redirect-tap's tap gets an owner
// by default (the plugin's uid/gid), and netmodel's check says ok right after ADD.
import { readFileSync, rmSync, statSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { execa } from 'execa';
import { classify, scan } from '@tapwire/endpoints';
import { attachAll, check, readNetns } from '@tapwire/netmodel';
import { readTunIds, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { addList, bundleForTests, envOf, REFERENCE_DIR, runList, tempDir, type Conflist, type PodEnv } from '../testing.js';

let bin = '';
test.before(async () => {
  bin = await bundleForTests();
});
test.after.always(() => {
  if (bin !== '') rmSync(bin, { recursive: true, force: true });
});

const gate = (t: ExecutionContext): boolean => requireRoot(t) && requireCommand(t, `${REFERENCE_DIR}/host-local`);

/** ids named in /etc/passwd or /etc/group (read only). */
const namedIds = (file: string): Set<number> =>
  new Set(readFileSync(file, 'utf8').split('\n').map((l) => Number(l.split(':')[2])).filter((n) => Number.isInteger(n)));

const tapPod = async (t: ExecutionContext, subnet: string, plugin: Record<string, unknown>) => {
  const ns = await makeNetns(t, 'twown');
  const data = tempDir('tapwire-cni-ipam-');
  t.teardown(data.remove);
  const list: Conflist = { cniVersion: '1.0.0', name: 'ownnet', plugins: [{ type: 'tap', ipam: { type: 'host-local', dataDir: data.path, ranges: [[{ subnet }]] }, ...plugin }] };
  const pod: PodEnv = { containerId: `c${ns.name}`, netns: ns.path, ifname: 'net1', path: [bin, REFERENCE_DIR] };
  return { ns, list, pod };
};

const userOf = async (ns: string): Promise<{ user?: unknown; group?: unknown }> =>
  ((JSON.parse(await sh(['ip', '-n', ns, '-j', '-d', 'link', 'show', 'dev', 'net1'])) as { linkinfo: { info_data: { user?: unknown; group?: unknown } } }[])[0]?.linkinfo.info_data ?? {});

const cases: [string, Record<string, number>, (ip: { user?: unknown; group?: unknown }) => boolean][] = [
  ['owner with a passwd entry (nobody)', { owner: 65534 }, (ip) => ip.user === 'nobody'],
  ['owner and group without entries', { owner: 4242, group: 4243 }, (ip) => ip.user === 4242 || ip.user === '4242'],
  ['group only, with a group entry', { group: 65534 }, (ip) => ip.user === undefined && typeof ip.group === 'string'],
];

for (const [i, [name, ids, ipSays]] of cases.entries()) {
  test(`tap CHECK passes for ${name}; a different configured id is drift naming both numbers`, async (t) => {
    if (!gate(t)) return;
    if (ids['owner'] === 65534) t.true(namedIds('/etc/passwd').has(65534), 'this case needs uid 65534 in /etc/passwd');
    if (ids['owner'] === 4242) t.false(namedIds('/etc/passwd').has(4242), 'this case needs uid 4242 without a passwd entry');
    const { ns, list, pod } = await tapPod(t, `10.214.${i}.0/24`, ids);
    const { result, steps } = await addList(list, pod);
    t.teardown(async () => void (await runList('DEL', list, pod, result)));
    t.is(steps[0]?.exitCode, 0, steps[0]?.stdout);
    t.true(ipSays(await userOf(ns.name)), JSON.stringify(await userOf(ns.name)));
    t.deepEqual((await runList('CHECK', list, pod, result)).map((r) => [r.exitCode, r.stdout]), [[0, '']]);
    // The same tap checked against a config asking for other ids.
    const field = ids['owner'] === undefined ? 'group' : 'owner';
    const other: Conflist = { ...list, plugins: [{ ...list.plugins[0], [field]: 4244 }] };
    const [c] = await runList('CHECK', other, pod, result);
    t.is(c?.exitCode, 1);
    t.like(c?.json, { code: 104 });
    const word = field === 'owner' ? 'is owned by' : 'has group';
    t.regex(String(c?.json?.['details']), new RegExp(`net1 ${word} ${ids[field]}, the config says 4244`));
  });
}

test('tap CHECK: an owner the config asks for but the tap lacks is drift, not "undefined"', async (t) => {
  if (!gate(t)) return;
  const { list, pod } = await tapPod(t, '10.214.9.0/24', {});
  const { result } = await addList(list, pod);
  t.teardown(async () => void (await runList('DEL', list, pod, result)));
  const [c] = await runList('CHECK', { ...list, plugins: [{ ...list.plugins[0], owner: 1000 }] }, pod, result);
  t.is(c?.exitCode, 1);
  t.regex(String(c?.json?.['details']), /net1 is owned by nobody in particular \(unset\), the config says 1000/);
  t.notRegex(String(c?.json?.['details']), /undefined/);
});


// bridge -> tc-redirect-tap, the "host" side in a throwaway netns too.
const runIn = async (hostPath: string, command: string, type: string, pod: PodEnv, conf: Record<string, unknown>) => {
  const file = type === 'tc-redirect-tap' ? `${bin}/${type}` : `${REFERENCE_DIR}/${type}`;
  const r = await execa('nsenter', [`--net=${hostPath}`, '--', file], { env: envOf(command, pod), extendEnv: false, input: JSON.stringify(conf), reject: false });
  return { exitCode: r.exitCode, stdout: String(r.stdout) };
};

const redirectPod = async (t: ExecutionContext, subnet: string, args?: string) => {
  const host = await makeNetns(t, 'twrh');
  const ns = await makeNetns(t, 'twown');
  const data = tempDir('tapwire-cni-ipam-');
  t.teardown(data.remove);
  const confs = [
    { cniVersion: '1.0.0', name: 'ownfc', type: 'bridge', bridge: 'twbr0', isGateway: true, ipam: { type: 'host-local', dataDir: data.path, ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] } },
    { cniVersion: '1.0.0', name: 'ownfc', type: 'tc-redirect-tap' },
  ];
  const pod: PodEnv = { containerId: `c${ns.name}`, netns: ns.path, ifname: 'eth0', path: [bin, REFERENCE_DIR], ...(args === undefined ? {} : { args }) };
  let prev: Record<string, unknown> | undefined;
  for (const c of confs) {
    const r = await runIn(host.path, 'ADD', String(c.type), pod, { ...c, ...(prev === undefined ? {} : { prevResult: prev }) });
    t.is(r.exitCode, 0, r.stdout);
    prev = JSON.parse(r.stdout) as Record<string, unknown>;
  }
  const result = prev;
  t.teardown(async () => {
    for (const c of [...confs].reverse()) await runIn(host.path, 'DEL', String(c.type), pod, { ...c, prevResult: result });
  });
  const checks = await Promise.all(confs.map((c) => runIn(host.path, 'CHECK', String(c.type), pod, { ...c, prevResult: result })));
  return { ns, checks };
};

const handle = (name: string, path: string): NetnsHandle => ({ spec: name, path, inode: statSync(path).ino });

const tapOf = async (ns: NetnsHandle): Promise<{ name: string; ids: unknown }> => {
  const v = await readNetns(ns)();
  const tap = E.isRight(v) ? v.right.links.find((l) => l.kind === 'tun') : undefined;
  const ids = tap === undefined ? undefined : readTunIds(ns, [tap.name]);
  return { name: tap?.name ?? '-', ids: ids !== undefined && E.isRight(ids) ? ids.right[tap?.name ?? ''] : ids };
};

test('bridge -> tc-redirect-tap: the tap is owned by the plugin\'s uid/gid by default; CHECK, tapwire check and attach --all say ok right after ADD', async (t) => {
  if (!gate(t) || !requireCommand(t, `${REFERENCE_DIR}/bridge`)) return;
  const { ns, checks } = await redirectPod(t, '10.214.20.0/24');
  t.deepEqual(checks.map((c) => [c.exitCode, c.stdout]), [[0, ''], [0, '']]);
  const h = handle(ns.name, ns.path);
  t.like(await tapOf(h), { ids: { owner: process.geteuid?.(), group: process.getegid?.() } });
  const reports = await check(h)();
  t.deepEqual(E.isRight(reports) ? reports.right.map((r) => [r.attachment.link, r.findings.length]) : reports, [['eth0', 0]]);
  const scanned = await scan(h)();
  if (E.isLeft(scanned)) return t.fail(JSON.stringify(scanned.left));
  const all = await attachAll(h, classify(scanned.right), 'tcfilter')();
  t.like(all, { _tag: 'Right', right: [{ link: 'eth0', existing: true }] });
});

test('bridge -> tc-redirect-tap with TC_REDIRECT_TAP_UID alone: that owner, no group (the kernel would want both)', async (t) => {
  if (!gate(t) || !requireCommand(t, `${REFERENCE_DIR}/bridge`)) return;
  const { ns, checks } = await redirectPod(t, '10.214.21.0/24', 'IgnoreUnknown=1;TC_REDIRECT_TAP_UID=65534');
  t.deepEqual(checks.map((c) => c.exitCode), [0, 0]);
  t.like(await tapOf(handle(ns.name, ns.path)), { ids: { owner: 65534, group: undefined } });
});
