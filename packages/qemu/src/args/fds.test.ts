import test from 'ava';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { assignFdPositions, childFdSlots } from './fds.js';

test('fds start at 3: queue fds then vhost fds of each nic, nic by nic', (t) => {
  t.deepEqual(
    assignFdPositions([
      { queues: 2, vhost: true },
      { queues: 1, vhost: false },
      { queues: 0, vhost: false },
      { queues: 3, vhost: false },
      { queues: 1, vhost: true },
    ]),
    E.right([
      { queueFds: [3, 4], vhostFds: [5, 6] },
      { queueFds: [7], vhostFds: [] },
      { queueFds: [], vhostFds: [] },
      { queueFds: [8, 9, 10], vhostFds: [] },
      { queueFds: [11], vhostFds: [12] },
    ]),
  );
});

test('no nics need no fds', (t) => {
  t.deepEqual(assignFdPositions([]), E.right([]));
  t.is(childFdSlots([]), 3);
});

test('queue counts outside 0..256 are refused, naming the nic by position', (t) => {
  for (const queues of [-1, 257, 1.5]) {
    t.deepEqual(
      assignFdPositions([{ queues: 1, vhost: false }, { queues, vhost: false }]),
      E.left({ _tag: 'InvalidValue', subject: 'nic #1', field: 'queues', input: String(queues), expected: 'an integer from 0 to 256' }),
    );
  }
});

test('positions are contiguous from 3, distinct, and match the stdio slot count', (t) => {
  fc.assert(
    fc.property(fc.array(fc.record({ queues: fc.integer({ min: 0, max: 8 }), vhost: fc.boolean() }), { maxLength: 8 }), (needs) => {
      const r = assignFdPositions(needs);
      if (E.isLeft(r)) return false;
      const all = r.right.flatMap((p) => [...p.queueFds, ...p.vhostFds]);
      const expected = Array.from({ length: all.length }, (_, i) => i + 3);
      return (
        JSON.stringify(all) === JSON.stringify(expected) &&
        childFdSlots(r.right) === 3 + all.length &&
        r.right.every((p, i) => p.queueFds.length === needs[i]?.queues && p.vhostFds.length === (needs[i]?.vhost ? needs[i]?.queues : 0))
      );
    }),
  );
  t.pass();
});
