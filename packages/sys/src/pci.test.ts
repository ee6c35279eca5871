import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { checkPciAddress, PCI_DEVICES_DIR, readPciIds } from './pci.js';

const sysfsOr = (read: () => string): string | undefined => {
  try {
    return read();
  } catch {
    return undefined;
  }
};

test('every PCI function reads as sysfs says', (t) => {
  const bdfs = sysfsOr(() => readdirSync(PCI_DEVICES_DIR).join(' '))?.split(' ').filter((b) => b !== '') ?? [];
  for (const bdf of bdfs) {
    t.deepEqual(checkPciAddress(bdf), E.right(bdf));
    t.deepEqual(readPciIds(bdf), {
      vendor: sysfsOr(() => readFileSync(`${PCI_DEVICES_DIR}/${bdf}/vendor`, 'utf8').trim()),
      device: sysfsOr(() => readFileSync(`${PCI_DEVICES_DIR}/${bdf}/device`, 'utf8').trim()),
      boundDriver: sysfsOr(() => basename(readlinkSync(`${PCI_DEVICES_DIR}/${bdf}/driver`))),
    }, bdf);
  }
  t.pass();
});

test('the virtio NIC of this machine, when present, is virtio-pci bound with vendor 0x1af4', (t) => {
  const ids = readPciIds('0000:00:03.0');
  if (ids.vendor === undefined) return t.pass('no device at 0000:00:03.0 here');
  t.is(ids.vendor, '0x1af4');
  t.regex(ids.device ?? '', /^0x[0-9a-f]{4}$/);
  t.is(ids.boundDriver, 'virtio-pci');
});

test('a well-formed address with no device has every field undefined', (t) => {
  t.deepEqual(readPciIds('ffff:ff:1f.7'), { vendor: undefined, device: undefined, boundDriver: undefined });
});

test('malformed addresses are refused and read nothing', (t) => {
  for (const bad of ['', '../../../etc', '0000:00:03.0/..', '0000:00:03', '0000:00:20.0', '0000:00:03.8', '0000:00:03.0 ', '0000:0:03.0', 'tap', '0000:00:1F.0']) {
    t.like(checkPciAddress(bad), { _tag: 'Left', left: { _tag: 'BadInput', what: 'PCI address', input: bad } }, bad);
    t.deepEqual(readPciIds(bad), { vendor: undefined, device: undefined, boundDriver: undefined }, bad);
  }
  t.deepEqual(checkPciAddress('10000:00:02.0'), E.right('10000:00:02.0'));
});
