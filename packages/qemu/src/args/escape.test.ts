import test from 'ava';
import fc from 'fast-check';
import { escapeOptValue, optString } from './escape.js';

/** QEMU's QemuOpts/keyval split: a single comma ends a value, ",," is a literal comma. */
const splitOpts = (s: string): string[] => {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i += 1) {
    if (s[i] === ',' && s[i + 1] === ',') {
      cur += ',';
      i += 1;
    } else if (s[i] === ',') {
      parts.push(cur);
      cur = '';
    } else cur += s[i];
  }
  parts.push(cur);
  return parts;
};

test('commas are doubled, nothing else changes', (t) => {
  t.is(escapeOptValue('/run/a,b/c,,d'), '/run/a,,b/c,,,,d');
  t.is(escapeOptValue('/plain/path=1:2'), '/plain/path=1:2');
  t.is(escapeOptValue(''), '');
});

test('every value survives QEMU’s option split intact', (t) => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', ',', '=', '/', ':', ' ') }), { maxLength: 5 }), (values) => {
      const s = optString('socket', values.map((v, i) => [`k${i}`, v] as const));
      const parts = splitOpts(s);
      return parts[0] === 'socket' && values.every((v, i) => parts[i + 1] === `k${i}=${v}`) && parts.length === values.length + 1;
    }),
  );
  t.pass();
});
