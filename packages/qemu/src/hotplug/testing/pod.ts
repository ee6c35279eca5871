// Test rig: a pod netns A with a veth (tcfilter's endpoint) and a macvtap over
// a second veth, their peers in B answering pings; and a fingerprint of A to
// check it ends exactly as it began.
import { execa } from 'execa';
import * as E from 'fp-ts/lib/Either.js';
import { describeSysError, resolveNetns, run, runBatch, type NetnsHandle } from '@tapwire/sys';

export const VETH_MAC = '02:77:00:00:00:02';
export const VETH_PEER = '10.77.0.1';
export const MACVTAP_MAC = '02:78:00:00:00:02';
export const MACVTAP_PEER = '10.78.0.1';

export interface TestPod {
  readonly a: string;
  readonly b: string;
  readonly ns: NetnsHandle;
  readonly remove: () => Promise<void>;
}

const must = async <A>(what: string, r: Promise<E.Either<Parameters<typeof describeSysError>[0], A>>): Promise<A> => {
  const x = await r;
  if (E.isLeft(x)) throw new Error(`${what}: ${describeSysError(x.left)}`);
  return x.right;
};

export const makeTestPod = async (tag: string): Promise<TestPod> => {
  const suffix = `${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
  const a = `twh${tag}a${suffix}`;
  const b = `twh${tag}b${suffix}`;
  await execa('ip', ['netns', 'add', a]);
  await execa('ip', ['netns', 'add', b]);
  const remove = async (): Promise<void> => {
    await execa('ip', ['netns', 'del', a], { reject: false });
    await execa('ip', ['netns', 'del', b], { reject: false });
  };
  try {
    const ns = await must('netns A', Promise.resolve(resolveNetns(a)));
    const nsB = await must('netns B', Promise.resolve(resolveNetns(b)));
    await must('A links', runBatch(ns, 'ip', [
      ['link', 'set', 'lo', 'up'],
      ['link', 'add', 'vA', 'address', VETH_MAC, 'type', 'veth', 'peer', 'name', 'vB', 'netns', b],
      ['addr', 'add', '10.77.0.2/24', 'dev', 'vA'],
      ['link', 'set', 'vA', 'up'],
      ['link', 'add', 'vA2', 'type', 'veth', 'peer', 'name', 'vB2', 'netns', b],
      ['link', 'set', 'vA2', 'up'],
      ['link', 'add', 'link', 'vA2', 'name', 'mv0', 'address', MACVTAP_MAC, 'type', 'macvtap', 'mode', 'bridge'],
      ['addr', 'add', '10.78.0.2/24', 'dev', 'mv0'],
      ['link', 'set', 'mv0', 'up'],
    ])());
    await must('B links', runBatch(nsB, 'ip', [
      ['link', 'set', 'lo', 'up'],
      ['addr', 'add', `${VETH_PEER}/24`, 'dev', 'vB'],
      ['link', 'set', 'vB', 'up'],
      ['addr', 'add', `${MACVTAP_PEER}/24`, 'dev', 'vB2'],
      ['link', 'set', 'vB2', 'up'],
    ])());
    await dadSettled(ns);
    return { a, b, ns, remove };
  } catch (e) {
    await remove();
    throw e;
  }
};

/** Links, addresses, routes, qdiscs and filters of the netns, as text without counters. */
export const fingerprint = async (ns: NetnsHandle): Promise<string> => {
  const parts: string[] = [];
  for (const argv of [
    ['ip', '-o', '-d', 'link', 'show'],
    ['ip', '-o', 'addr', 'show'],
    ['ip', 'route', 'show', 'table', 'all'],
    ['tc', 'qdisc', 'show'],
  ]) {
    const r = await run(argv, { netns: ns })();
    // Sorted: the kernel lists re-added local routes in another order.
    parts.push(E.isRight(r) ? r.right.stdout.split('\n').sort().join('\n') : `failed: ${argv.join(' ')}`);
  }
  // Volatile: link-local address lifetimes, and DAD still running on new links.
  return parts.join('\n').replace(/valid_lft \S+ preferred_lft \S+/g, '').replace(/ tentative/g, '');
};

/** Waits (up to 10 s) until no address in the netns is still tentative: DAD done, local routes made. */
export const dadSettled = async (ns: NetnsHandle): Promise<void> => {
  for (let i = 0; i < 100; i++) {
    const r = await run(['ip', '-o', 'addr', 'show'], { netns: ns })();
    if (E.isRight(r) && !r.right.stdout.includes('tentative')) return;
    await new Promise((res) => setTimeout(res, 100));
  }
};
