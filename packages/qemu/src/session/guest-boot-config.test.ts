// Pure: the guest's config rides the kernel command line while it fits,
// and the control channel (tapwire.control=1 plus one batch) once it does not.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { renderGuestCmdline, type GuestConfig } from '../guest/index.js';
import { BOOT_BATCH_TAG, deliverGuestConfig } from './guest-boot-config.js';

const mac = (i: number): string => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
const pod = (links: number): GuestConfig => ({
  nics: Array.from({ length: links }, (_, i) => ({ mac: mac(i), addresses: [`10.110.${i}.2/24`], name: `eth${i}` })),
  exactRouting: true,
  ping: ['10.110.0.1'],
});

test('a config that fits stays on the command line, as before: no control channel', (t) => {
  t.deepEqual(deliverGuestConfig(pod(2)), E.map((append: string) => ({ append }))(renderGuestCmdline(pod(2))));
});

test('48 links: a bare command line with tapwire.control=1, and the whole config as one batch', (t) => {
  t.like(renderGuestCmdline(pod(48)), { left: { _tag: 'GuestCmdlineTooLong' } });
  const d = deliverGuestConfig(pod(48));
  if (E.isLeft(d)) return t.fail(JSON.stringify(d.left));
  t.true(d.right.append.split(' ').includes('tapwire.control=1'));
  t.false(d.right.append.includes('tapwire.nic='));
  t.false(d.right.append.includes('tapwire.ping='));
  const lines = d.right.control?.lines ?? [];
  t.is(lines.filter((l) => l.startsWith('nic ')).length, 48);
  t.true(lines.includes('exact'));
  t.true(lines.includes('ping 10.110.0.1'));
  t.is(lines.at(-1), `apply ${BOOT_BATCH_TAG}`);
  t.is(d.right.control?.batch.nics.length, 48);
});

test('a bad value is refused as on the command line, whichever way the config would go', (t) => {
  const bad = { ...pod(48), ping: ['not-an-address'] };
  t.like(deliverGuestConfig(bad), { left: { _tag: 'GuestCmdline' } });
  t.like(deliverGuestConfig({ ...pod(1), ping: ['not-an-address'] }), { left: { _tag: 'GuestCmdline' } });
});
