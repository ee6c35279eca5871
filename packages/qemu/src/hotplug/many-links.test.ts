// A 48-link pod: its guest network config is too long for the kernel command
// line (2047 bytes), so the VM boots with none and every link goes in over
// QMP hotplug (48 reserved root ports, 6 multifunction slots) and the control
// channel; the guest brings all 48 up and pings through several of them.
import test from 'ava';
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { resolveNetns } from '@tapwire/sys';
import { requireCommand, requireRoot } from '@tapwire/testkit';
import { renderGuestCmdline } from '../guest/cmdline.js';
import { renderControlBatch } from '../guest/control.js';
import { describeHotAttachError, hotAttach, hotDetach, type HotAttachResult } from './hot-attach.js';
import { bootTestVm } from './testing/boot.js';
import { dadSettled, fingerprint } from './testing/pod.js';

const LINKS = 48;
const PINGED = [0, 23, 47];
const addr = (i: number, host: number): string => `10.${100 + (i >> 8)}.${i & 255}.${host}`;

test('a 48-link pod: every link hotplugged and configured over the control channel, pings through several', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'qemu-system-x86_64')) return;
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
  const a = `twm${tag}a`;
  const b = `twm${tag}b`;
  await execa('ip', ['netns', 'add', a]);
  t.teardown(() => execa('ip', ['netns', 'del', a], { reject: false }).then(() => undefined));
  await execa('ip', ['netns', 'add', b]);
  t.teardown(() => execa('ip', ['netns', 'del', b], { reject: false }).then(() => undefined));
  const batchA = ['link set lo up', ...Array.from({ length: LINKS }, (_, i) => [`link add eth${i} type veth peer name p${i} netns ${b}`, `addr add ${addr(i, 2)}/24 dev eth${i}`, `link set eth${i} up`]).flat()];
  const batchB = ['link set lo up', ...Array.from({ length: LINKS }, (_, i) => [`addr add ${addr(i, 1)}/24 dev p${i}`, `link set p${i} up`]).flat()];
  await execa('ip', ['-n', a, '-batch', '-'], { input: `${batchA.join('\n')}\n` });
  await execa('ip', ['-n', b, '-batch', '-'], { input: `${batchB.join('\n')}\n` });
  const h = resolveNetns(a);
  if (E.isLeft(h)) return t.fail(JSON.stringify(h.left));
  const ns = h.right;
  await dadSettled(ns);
  const before = await fingerprint(ns);

  // What the control channel removes: this config does not fit the command line.
  const config = { nics: Array.from({ length: LINKS }, (_, i) => ({ mac: `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, addresses: [`${addr(i, 2)}/24`] })) };
  const cmdline = renderGuestCmdline(config);
  t.true(E.isLeft(cmdline) && cmdline.left._tag === 'GuestCmdlineTooLong', 'too long for the command line');
  t.true(E.isRight(renderControlBatch(config, 'all')), 'fits the control channel');

  const vm = await bootTestVm(ns, { ports: LINKS, cpus: 1, memMiB: 384 });
  t.teardown(() => vm.stop());
  t.log(`booted with ${LINKS} reserved root ports in ${vm.bootMs} ms`);
  const plugged: HotAttachResult[] = [];
  const t0 = Date.now();
  for (let i = 0; i < LINKS; i++) {
    const r = await hotAttach(vm.hot, ns, `eth${i}`, { nicId: `m${i}`, model: 'tcfilter', queues: 1, ...(PINGED.includes(i) ? { ping: [addr(i, 1)] } : {}), guestTimeoutMs: 120_000 })();
    if (E.isLeft(r)) return t.fail(`eth${i}: ${describeHotAttachError(r.left)}`);
    plugged.push(r.right);
  }
  t.log(`${LINKS} links plugged and up in ${Date.now() - t0} ms`);
  const up = vm.hot.watch.events().filter((e) => e._tag === 'NicState' && e.state === 'up');
  t.is(new Set(up.map((e) => (e._tag === 'NicState' ? e.mac : ''))).size, LINKS, 'the guest reports every NIC up');
  const pings = plugged.flatMap((p) => p.guest.filter((e) => e._tag === 'PingOk' || e._tag === 'PingFail'));
  t.deepEqual(pings.map((p) => p._tag), PINGED.map(() => 'PingOk'), JSON.stringify(pings));
  t.deepEqual(new Set(plugged.map((p) => p.plugged.port)).size, LINKS, 'one root port each');

  for (const p of plugged.reverse()) {
    const d = await hotDetach(vm.hot, ns, p)();
    if (E.isLeft(d)) return t.fail(`${p.link}: ${describeHotAttachError(d.left)}`);
  }
  t.is(await fingerprint(ns), before, 'the pod netns is as before');
});
