// The tap plugin's CHECK compares owner and group as numbers: iproute2 prints
// them as names when passwd/group have one ("nobody", "cloudsdk"), which CHECK
// once read as "owned by undefined". Also: tc-redirect-tap's tap gets an owner
// by default (the plugin's uid/gid), and netmodel's check says ok right after ADD.
import { readFileSync, rmSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { makeNetns, requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { addList, bundleForTests, REFERENCE_DIR, runList, tempDir, type Conflist, type PodEnv } from '../testing.js';

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
    const { ns, list, pod } = await tapPod(t, `10.212.${i}.0/24`, ids);
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
  const { list, pod } = await tapPod(t, '10.212.9.0/24', {});
  const { result } = await addList(list, pod);
  t.teardown(async () => void (await runList('DEL', list, pod, result)));
  const [c] = await runList('CHECK', { ...list, plugins: [{ ...list.plugins[0], owner: 1000 }] }, pod, result);
  t.is(c?.exitCode, 1);
  t.regex(String(c?.json?.['details']), /net1 is owned by nobody in particular \(unset\), the config says 1000/);
  t.notRegex(String(c?.json?.['details']), /undefined/);
});

