// The VM handle's feeds: listeners, late readers, the end, and the cap on what is kept.
import test from 'ava';
import { makeFeed } from './feed.js';

test('a reader that comes late gets what was kept, then what follows, and stops at the end', async (t) => {
  const w = makeFeed<number>();
  w.push(1);
  w.push(2);
  const heard: number[] = [];
  const off = w.feed.on((v) => heard.push(v));
  const read = (async () => {
    const got: number[] = [];
    for await (const v of w.feed) got.push(v);
    return got;
  })();
  w.push(3);
  off();
  w.push(4);
  w.end();
  w.push(5);
  t.deepEqual(await read, [1, 2, 3, 4]);
  t.deepEqual(heard, [3]);
  t.true(w.feed.ended());
  t.deepEqual(w.feed.history(), [1, 2, 3, 4]);
});

test('only the last `keep` values are kept; a slow reader skips the dropped ones', async (t) => {
  const w = makeFeed<number>(3);
  for (let i = 0; i < 10; i++) w.push(i);
  t.deepEqual(w.feed.history(), [7, 8, 9]);
  w.end();
  const got: number[] = [];
  for await (const v of w.feed) got.push(v);
  t.deepEqual(got, [7, 8, 9]);
});
