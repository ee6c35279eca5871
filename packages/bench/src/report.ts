// Markdown for humans: stdout of `pnpm bench` and the body of RESULTS.md.
import { PHASES } from './clock.js';
import { METHODS, METHOD_LABELS } from './scale.js';
import { isSkipped, type BenchResults } from './results.js';
import { FLOOR_TARGET, FLOOR_TARGET_LINKS } from './targets.js';
import { NOT_MEASURED, netlinkSection } from './report-netlink.js';
import { SHELL_LOOP_MAX_LINKS } from './cli-bench.js';
import { CNI_TARGETS, TAP_STANDALONE, TAP_THICK } from './cni-bench.js';
import { ratio } from './stats.js';
import { renderHotplugSection } from './hotplug-bench.js';

/** Issue 13's CLI targets: inspect within 1.5x of node -e 0; attach --all 2.5x faster than a shell loop at 48 links. */
const INSPECT_TARGET = 1.5;
const SPEEDUP_TARGET = 2.5;
const CLI_SPEEDUP_LINKS = 48;

const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]): string =>
  [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const x = (r: number | null | undefined): string => (r === null || r === undefined ? 'n/a' : `${r.toFixed(2)}x`);
const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

const scaleSection = (r: BenchResults): string => {
  const q = r.options.queues;
  const summary = table(
    ['links', '(a) in-process ms', '(b) per-command ms', '(c) batch floor ms', 'a/c', 'b/c', 'b/a', 'attach a/c', 'spawns a', 'spawns b', 'spawns c'],
    r.scale.map((e) => [
      e.links,
      ms(e.inProcessMs),
      ms(e.perCommandMs),
      ms(e.batchFloorMs),
      x(e.ratios.inProcessVsFloor),
      x(e.ratios.perCommandVsFloor),
      x(e.ratios.perCommandVsInProcess),
      x(e.ratios.attachInProcessVsFloor),
      e.spawns.inProcess.total,
      e.spawns.perCommand.total,
      e.spawns.batchFloor.total,
    ]),
  );
  const range = (xs: readonly number[]): string => (xs.length === 0 ? 'n/a' : `${ms(Math.min(...xs))}-${ms(Math.max(...xs))}`);
  const phases = table(
    ['links', 'method', ...PHASES.map((p) => `${p} ms`), 'total ms', 'attach ms min-max', 'total ms min-max', ...PHASES.map((p) => `${p} spawns`)],
    r.scale.flatMap((e) =>
      METHODS.flatMap((m) => {
        const [figs, samples, spawns] = [e.phasesMs[m], e.samplesMs[m], e.spawns[m]];
        if (figs === undefined || samples === undefined || spawns === undefined) return [];
        return [[e.links, METHOD_LABELS[m], ...PHASES.map((p) => ms(figs[p])), ms(figs.total), range(samples.attach), range(samples.total), ...PHASES.map((p) => spawns[p])]];
      }),
    ),
  );
  // A run kept before (a2)/(d) existed has no rows for them (results.ts).
  const unmeasured = METHODS.filter((m) => r.scale.some((e) => e.phasesMs[m] === undefined));
  const unstable = r.scale.filter((e) => !e.spawnsStable).map((e) => e.links);
  return [
    `## Scale: scan, attach-all (tcfilter, ${q} queues), open + close the queue fds, detach-all`,
    '',
    `Medians of ${r.options.runs} run(s) per method and size, on the same pod netns (N veths with addresses, peers in a second netns), after one untimed round of all methods; run r takes the methods rotated by r, reversed every other run, so no method always follows the same one; the netns is checked to be exactly as before after every run. ` +
      '(a) tapwire in-process: scan -> classify -> attachAll -> openTapQueues -> close -> detachAll, spawns from @tapwire/sys spawnCount(). ' +
      '(b) one `ip -n`/`tc -n` process per operation plus one `ip -j -d addr show` scan. ' +
      '(c) the floor: the same operations in one `ip -batch` and one `tc -batch` per phase. (b) and (c) open the fds with the same in-process ioctls as (a).',
    '',
    summary,
    '',
    'Per phase (medians in ms, the spread over the runs, and process spawns per run):',
    '',
    phases,
    ...(unmeasured.length === 0 ? [] : ['', `${unmeasured.map((m) => METHOD_LABELS[m]).join('; ')}: ${NOT_MEASURED} in this run.`]),
    ...(unstable.length === 0 ? [] : ['', `Spawn counts differed between runs at ${unstable.join(', ')} links (the table shows medians).`]),
    '',
    '![ms and spawns per run vs links](scale.svg)',
  ].join('\n');
};

const targetsSection = (r: BenchResults): string => {
  const w = r.targets.withinFloor;
  const s = r.targets.spawnsConstant;
  const at = r.scale.find((e) => e.links === FLOOR_TARGET_LINKS);
  const spread =
    at === undefined
      ? ''
      : ` Attach ms per run at ${at.links} links, (a2): ${(at.samplesMs.netlink?.attach ?? []).map(ms).join(', ')}; (a): ${at.samplesMs.inProcess.attach.map(ms).join(', ')}; (c): ${at.samplesMs.batchFloor.attach.map(ms).join(', ')}.`;
  const floorLine = isSkipped(w)
    ? `- In-process attach-all within ${FLOOR_TARGET}x of the batch floor at ${FLOOR_TARGET_LINKS} links: not measured (${w.skipped}).`
    : `- In-process attach-all within ${w.target}x of the batch floor at ${w.links} links: **${w.met ? 'met' : 'NOT met'}** - attach phase ${x(w.attachNetlinkVsFloor)} with the default netlink executor (a2)` +
      ` (whole sequence ${x(w.netlinkVsFloor)}, ${w.metOnWholeSequence ? 'within' : 'over'} ${w.target}x); with the ip/tc executor (a) ${x(w.attachInProcessVsFloor)}` +
      ` (whole sequence ${x(w.inProcessVsFloor)}: it reads the netns with 2 processes before its batches, the floor runs only the batches).${spread}`;
  const spawnLine =
    `- (a)'s spawns per phase constant in the number of links: **${s.met ? 'met' : 'NOT met'}**` +
    (s.met ? '' : ` - growing: ${s.growing.map((p) => `${p} (${s.inProcessPerPhase[p].join(', ')} at ${s.sizes.join(', ')} links)`).join('; ')}`) +
    '.';
  return ['## Targets', '', floorLine, spawnLine].join('\n');
};

const kb = (n: number): string => `${(n / 1024).toFixed(1)} MB`;

const cliSection = (r: BenchResults): string => {
  const c = r.cli;
  const first = c.bySize[0];
  const inspectVsNode = first === undefined ? null : ratio(first.inspectMs, c.nodeStartMs);
  const loop = c.bySize.filter((e) => e.attachSpeedup !== null && e.attachSpeedup !== undefined);
  const at48 = loop.find((e) => e.links === CLI_SPEEDUP_LINKS) ?? loop.at(-1);
  return [
    '## CLI wall time',
    '',
    `\`node packages/cli/bin/tapwire.js ...\` from spawn to exit, node start-up included (\`node -e 0\` alone: ${ms(c.nodeStartMs)} ms). ` +
      (c.bundleBytes === undefined ? '' : c.bundleBytes === null ? `${c.bundleNote ?? 'no bundle'}. ` : `The bin runs the bundle built at the start of this section (dist/tapwire.cjs, ${(c.bundleBytes / 1024).toFixed(0)} KiB; "modules": the compiled dist/ instead). `) +
      `attach uses --queues ${c.queues}. Shell loop: a bash script with one \`ip -n\`/\`tc -n\` process per operation (the same commands), up to ${SHELL_LOOP_MAX_LINKS} links.`,
    '',
    table(
      ['links', 'inspect --json ms', 'inspect (modules) ms', 'attach --all ms', 'shell loop attach ms', 'loop / attach --all', 'detach --all ms', 'shell loop detach ms'],
      c.bySize.map((e) => [e.links, ms(e.inspectMs), ms(e.inspectModulesMs), ms(e.attachAllMs), ms(e.shellLoopAttachMs ?? NaN), x(e.attachSpeedup), ms(e.detachAllMs), ms(e.shellLoopDetachMs ?? NaN)]),
    ),
    '',
    `Targets: inspect (${first?.links ?? '?'} link${first?.links === 1 ? '' : 's'}) / node -e 0 = ${x(inspectVsNode)} (<= ${INSPECT_TARGET}x: ${inspectVsNode !== null && inspectVsNode <= INSPECT_TARGET ? 'met' : 'not met'}); ` +
      `attach --all faster than the shell loop at ${at48?.links ?? '?'} links: ${x(at48?.attachSpeedup ?? null)} (>= ${SPEEDUP_TARGET}x: ${(at48?.attachSpeedup ?? 0) >= SPEEDUP_TARGET ? 'met' : 'not met'}).`,
    ...(c.peakRssKb === null || c.peakRssKb === undefined ? [] : ['', `Peak RSS: node -e 0 ${kb(c.peakRssKb.nodeE0)}, inspect ${kb(c.peakRssKb.inspect)}, attach --all ${kb(c.peakRssKb.attachAll)} (${c.peakRssKb.links} link${c.peakRssKb.links === 1 ? '' : 's'}).`]),
  ].join('\n');
};

const bootSection = (r: BenchResults): string => {
  if (isSkipped(r.boot)) return ['## Guest boot to network up', '', `Skipped: ${r.boot.skipped}.`].join('\n');
  const b = r.boot;
  return [
    '## Guest boot to network up (TCG, 1 queue)',
    '',
    `Medians of ${b.runs} boot(s) per side, alternating who goes first. Clock from the first action to the guest's TAPWIRE-NET-UP line on the serial console. ` +
      "By hand: `ip -j -d addr show`, one ip/tc process per operation for the tap and the redirects, then the launcher's dry-run QEMU command line with `-netdev tap,ifname=...,script=no,downscript=no,vhost=off`, under `ip netns exec`.",
    '',
    table(
      ['', 'net-up ms', 'host work before QEMU ms', 'QEMU spawn to net-up ms', 'guest uptime at net-up s'],
      [
        ['tapwire launchPod', ms(b.launcher.netUpMs), ms(b.launcher.preQemuMs), ms(b.launcher.qemuToNetUpMs), b.launcher.guestUptimeS.toFixed(2)],
        [`by hand (${b.byHand.spawns} processes)`, ms(b.byHand.netUpMs), ms(b.byHand.preQemuMs), ms(b.byHand.qemuToNetUpMs), b.byHand.guestUptimeS.toFixed(2)],
      ],
    ),
    '',
    `Launcher minus by hand: ${ms(b.launcherExtraMs)} ms to net-up; ${ms(b.launcher.preQemuMs - b.byHand.preQemuMs)} ms of host work before QEMU. ` +
      'The guest boot itself varies by hundreds of ms between TCG runs, so the host work before QEMU is the figure the launcher controls.',
    '',
    `Launcher stages (median ms): ${Object.entries(b.launcher.stagesMs).map(([s, v]) => `${s} ${ms(v)}`).join(', ')}; whole launchPod call ${ms(b.launcher.totalMs)} ms.`,
    ...b.notes.map((n) => `\nNote: ${n}.`),
  ].join('\n');
};

const libvirtSection = (r: BenchResults): string => {
  const l = r.libvirt;
  if (l === undefined) return '';
  if (isSkipped(l)) return ['## Guest network-up through libvirt vs direct QEMU', '', `Skipped: ${l.skipped}.`].join('\n');
  return [
    '## Guest network-up through libvirt vs direct QEMU (TCG, tcfilter, 1 queue)',
    '',
    `Medians of ${l.runs} run(s) per side, alternating who goes first, same guest and pod netns. Clock from the launch call to the guest's TAPWIRE-NET-UP (and TAPWIRE-DONE, after it pinged the pod's gateway). ` +
      'libvirt: a private libvirtd started in the pod netns each run, the domain defined from the same NICs, destroyed and the daemon stopped after.',
    '',
    table(
      ['', 'net-up ms', 'done ms'],
      [
        ['launchPod (QEMU direct)', ms(l.qemu.netUpMs), ms(l.qemu.doneMs)],
        ['launchViaLibvirt', ms(l.libvirt.netUpMs), ms(l.libvirt.doneMs)],
      ],
    ),
    '',
    `libvirt phases (median ms): daemon up ${ms(l.libvirt.daemonMs)}, virsh create ${ms(l.libvirt.createMs)}, teardown ${ms(l.libvirt.teardownMs)}. ` +
      `A fresh daemon with an empty capability cache: virsh create ${ms(l.coldCreateMs)} ms (libvirt probes QEMU first; the cache is kept between runs).`,
  ].join('\n');
};

const cniSection = (r: BenchResults): string => {
  if (isSkipped(r.cni)) return ['## CNI ADD/DEL', '', `Skipped: ${r.cni.skipped}.`].join('\n');
  const c = r.cni;
  const verdict = (scenario: string, target: number): string => {
    const v = c.ratios[scenario];
    return v === undefined ? `${scenario}: not measured` : `${scenario}: ${x(v ?? null)} of ptp (<= ${target}x: ${v !== null && v <= target ? 'met' : 'not met'})`;
  };
  return [
    '## CNI ADD/DEL',
    '',
    `@tapwire/cni's measureCniAdd, ${c.rounds} round(s) after one untimed warm-up, run inside a throwaway netns; each call timed from spawn to exit. node start-up alone: ${c.nodeStartupMs === null ? 'n/a' : ms(c.nodeStartupMs)} ms.`,
    '',
    table(
      ['scenario', 'median ms', 'min ms', 'max ms', 'vs reference ptp ADD'],
      c.timings.map((t) => [t.scenario, ms(t.medianMs), ms(t.minMs), ms(t.maxMs), t.scenario in c.ratios ? x(c.ratios[t.scenario] ?? null) : '']),
    ),
    '',
    `Targets: ${verdict(TAP_THICK, CNI_TARGETS.thick)}; ${verdict(TAP_STANDALONE, CNI_TARGETS.standalone)}.`,
    ...((c.peakRss ?? []).length === 0 ? [] : ['', `Peak RSS: ${(c.peakRss ?? []).map((p) => `${p.what} ${kb(p.kb)}`).join('; ')}.`]),
    ...c.notes.map((n) => `\nNote: ${n}.`),
  ].join('\n');
};

export const envSection = (r: BenchResults): string =>
  [
    '## Environment',
    '',
    `- date: ${r.env.date}`,
    `- kernel: ${r.env.kernel}`,
    `- node: ${r.env.node}`,
    `- CPUs: ${r.env.cpuCount} x ${r.env.cpuModel}`,
    `- iproute2: ${r.env.iproute2}`,
    `- QEMU: ${r.env.qemu}`,
    `- tapwire commit: ${r.env.commit}`,
    `- load average (1 min) at start / end: ${r.env.loadAvgAtStart} / ${r.env.loadAvgAtEnd} (other work on the same ${r.env.cpuCount} CPUs moves every figure)`,
    `- options: sizes ${r.options.sizes.join(',')}, runs ${r.options.runs}, boot runs ${isSkipped(r.boot) ? 0 : r.options.bootRuns}`,
  ].join('\n');

export const renderMarkdown = (r: BenchResults): string => [scaleSection(r), targetsSection(r), netlinkSection(r), cliSection(r), bootSection(r), renderHotplugSection(r.hotplug), libvirtSection(r), cniSection(r)].filter((x) => x !== '').join('\n\n') + '\n';
