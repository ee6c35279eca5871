// `tapwire pod demo`, the README's "KubeVirt-style test VM in one command":
// through runCli as a newcomer runs it (defaults, --json to read the
// outcome), then interrupted while the guest boots. Either way nothing it
// made may be left: netns, links, lock files, temp dirs, QEMU.
import { existsSync, readlinkSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { requireCommand, requireRoot, sh } from '@tapwire/testkit';
import { captureOutput } from '../capture.js';
import { runCli } from '../main.js';

const TAPWIRE = fileURLToPath(new URL('../../bin/tapwire.js', import.meta.url));

const netnsNames = async (): Promise<string[]> => (await sh(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '');
const hostLinks = async (): Promise<string[]> => (JSON.parse(await sh(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
/**
 * Names the demo's links have in its node and pod netns (lower device and
 * peer, bridge, allocated macvtap, tc-redirect-tap's tap): none may show up
 * in the host's. (Other links may come and go there: tests run two at a time.)
 */
const OURS = /^(dp0|dp0peer|twpods\d*|dataplaneMvp\d+|tw\d+|net1)$/;
const newHostLinks = async (before: readonly string[]): Promise<string[]> => (await hostLinks()).filter((l) => !before.includes(l) && OURS.test(l));

/** QEMU processes whose command line names `text`, or (nsPath) whose netns is that one. */
const qemuPids = async (o: { text?: string; nsPath?: string }): Promise<string[]> => {
  const inode = o.nsPath !== undefined && existsSync(o.nsPath) ? statSync(o.nsPath).ino : undefined;
  const ps = (await execa('pgrep', ['-a', '-f', 'qemu-system-x86_64'], { reject: false })).stdout.split('\n').filter(Boolean);
  return ps.flatMap((line) => {
    const [pid = '', ...cmd] = line.split(' ');
    if (o.text !== undefined && cmd.join(' ').includes(o.text)) return [pid];
    try {
      return inode !== undefined && readlinkSync(`/proc/${pid}/ns/net`) === `net:[${inode}]` ? [pid] : [];
    } catch {
      return [];
    }
  });
};

const prereqs = (t: ExecutionContext): boolean =>
  requireRoot(t) && requireCommand(t, 'nsenter') && requireCommand(t, 'qemu-system-x86_64') && requireCommand(t, '/usr/lib/cni/bridge') && requireCommand(t, '/usr/lib/cni/host-local');

interface Report {
  ok: boolean;
  pod: string;
  nodeNetns: string;
  dir: string;
  lockFiles: string[];
  networkStatus: { name: string; interface: string; ips?: string[]; mac?: string; default?: boolean }[];
  pings: { interface: string; addr: string; ok: boolean }[];
  launch?: { argv: string[]; guest: { pings: { addr: string; _tag: string }[] } };
  stages: { stage: string; status: string }[];
}

test.serial('tapwire pod demo: pod up on the kubevirt examples, the guest pings over eth0 and the macvtap net1, exit 0, nothing left', async (t) => {
  if (!prereqs(t)) return;
  t.timeout(600_000);
  const linksBefore = await hostLinks();
  const io = captureOutput();
  const started = Date.now();
  const code = await runCli(['pod', 'demo', '--json'], io);
  t.log(`tapwire pod demo took ${Date.now() - started} ms`);
  t.log(io.stderr());
  t.is(code, 0, io.stderr());
  const r = JSON.parse(io.stdout()) as Report;
  t.true(r.ok);
  t.deepEqual(r.pings, [
    { interface: 'eth0', addr: '10.250.0.1', ok: true },
    { interface: 'net1', addr: '192.0.2.1', ok: true },
  ]);
  t.deepEqual(r.launch?.guest.pings.map((p) => [p.addr, p._tag]), [['10.250.0.1', 'PingOk'], ['192.0.2.1', 'PingOk']]);
  t.like(r.networkStatus, [
    { name: 'podnet', interface: 'eth0', default: true },
    { name: 'default/dataplane', interface: 'net1', ips: ['192.0.2.10'], mac: '02:23:45:67:89:01' },
  ]);
  // The demo's stages around launch's (which launch owns: boot and ping at least).
  const names = r.stages.map((s) => s.stage);
  t.deepEqual([...names.slice(0, 3), ...names.slice(-2)], ['node', 'plugins', 'pod-up', 'pod-down', 'cleanup'], names.join(' '));
  t.true(['scan', 'boot', 'ping'].every((s) => names.includes(s)), names.join(' '));
  t.true(r.stages.every((s) => s.status === 'ok'), JSON.stringify(r.stages));

  await nothingLeft(t, r, linksBefore);
});

/** What a run made, by its --json report, is all gone, and none of its links is in the host netns. */
const nothingLeft = async (t: ExecutionContext, r: Report, linksBefore: readonly string[]) => {
  const netnsAfter = await netnsNames();
  // Only this run's own netns: pod.test.ts makes tw-node-*/twdemo-* netns of its own at the same time.
  t.false(netnsAfter.includes(r.pod) || netnsAfter.includes(r.nodeNetns), netnsAfter.join(' '));
  t.deepEqual(await newHostLinks(linksBefore), [], 'no link of the demo in the host netns');
  t.is(r.lockFiles.length, 2);
  t.deepEqual(r.lockFiles.filter((f) => existsSync(f)), [], 'no lock file left');
  t.false(existsSync(r.dir), r.dir);
  if (r.launch === undefined) return;
  const qmp = r.launch.argv.find((a) => a.includes('qmp.sock')) ?? '';
  const workDir = /(\/[^,]*tapwire-vm-[^/,]+)\//.exec(qmp)?.[1];
  t.truthy(workDir, qmp);
  t.false(existsSync(workDir ?? '/nonexistent'), "launch's work dir is gone");
  t.deepEqual(await qemuPids({ text: workDir ?? r.dir }), [], 'no QEMU left');
};

test.serial('tapwire pod demo: a failure (the guest times out) still tears everything down, exit 1', async (t) => {
  if (!prereqs(t)) return;
  t.timeout(300_000);
  const linksBefore = await hostLinks();
  const io = captureOutput();
  const code = await runCli(['pod', 'demo', '--json', '--accel', 'tcg', '--timeout', '1s'], io);
  t.log(io.stderr());
  t.is(code, 1);
  const r = JSON.parse(io.stdout()) as Report & { error: string };
  t.false(r.ok);
  t.regex(r.error, /^pod demo: /);
  t.deepEqual(r.stages.slice(-2).map((s) => [s.stage, s.status]), [['pod-down', 'ok'], ['cleanup', 'ok']]);
  await nothingLeft(t, r, linksBefore);
});

test.serial('tapwire pod demo interrupted (SIGINT) while the guest boots: QEMU stops, pod down and cleanup run, nothing left', async (t) => {
  if (!prereqs(t)) return;
  t.timeout(300_000);
  const linksBefore = await hostLinks();
  const child = execa(process.execPath, [TAPWIRE, 'pod', 'demo', '--accel', 'tcg'], { reject: false, timeout: 240_000 });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let pod: string | undefined;
  for (let i = 0; i < 1200 && pod === undefined; i++) {
    pod = /✔ pod-up .*netns (twdemo-[0-9a-f]+)/.exec(out)?.[1];
    if (pod === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  t.truthy(pod, out);
  const nsPath = `/run/netns/${pod ?? ''}`;
  let running: string[] = [];
  for (let i = 0; i < 600 && running.length === 0; i++) {
    running = await qemuPids({ nsPath });
    if (running.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  t.is(running.length, 1, `QEMU was running in the pod netns when interrupted\n${out}`);
  const node = /netns (tw-node-[0-9a-f]+)/.exec(out)?.[1] ?? '';
  child.kill('SIGINT');
  const r = await child;
  t.log(`${r.stdout}\n${r.stderr}`);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /interrupted; everything was torn down/);
  t.notRegex(r.stdout, /guest reached/, 'the guest was stopped before it pinged');
  t.regex(r.stdout, /✔ pod-down/);
  t.regex(r.stdout, /✔ cleanup/);
  t.deepEqual(running.filter((pid) => existsSync(`/proc/${pid}`)), [], 'QEMU is gone');
  const netns = await netnsNames();
  t.false(netns.includes(pod ?? '') || netns.includes(node), netns.join(' '));
  t.deepEqual(await newHostLinks(linksBefore), []);
  const dir = /in (\/\S*tapwire-pod-demo-\w+)\/bin/.exec(r.stdout)?.[1];
  t.truthy(dir, r.stdout);
  t.false(existsSync(dir ?? '/nonexistent'));
});

test('tapwire pod demo without root: exit 1 saying so, before anything is made', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'setpriv')) return;
  const before = await netnsNames();
  const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, TAPWIRE, 'pod', 'demo'], { reject: false, timeout: 60_000 });
  t.is(r.exitCode, 1, r.stderr);
  t.is(r.stderr, 'tapwire: error: pod demo: needs root: it makes network namespaces, links and a VM (sudo pnpm -s tapwire pod demo)');
  t.deepEqual((await netnsNames()).filter((n) => !before.includes(n) && /^(tw-node-|twdemo-)/.test(n)), []);
});
