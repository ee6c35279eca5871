// PCI identity of a NIC's function. PCI devices are not per-netns, so the
// host's /sys is the right one to read.
import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from './errors.js';

/** Same shape as @tapwire/endpoints' PciIds. */
export interface PciIds {
  readonly vendor: string | undefined;
  readonly device: string | undefined;
  /** Kernel driver the PCI function is bound to now (e.g. virtio-pci, vfio-pci). */
  readonly boundDriver: string | undefined;
}

// DDDD:BB:DD.F; domains above ffff exist (Intel VMD uses 10000+), so 4-8 digits.
const BDF = /^[0-9a-f]{4,8}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/;

export const PCI_DEVICES_DIR = '/sys/bus/pci/devices';

/** A PCI address as sysfs and ethtool's bus-info write it (lowercase hex). */
export const checkPciAddress = (input: string): E.Either<SysError, string> =>
  BDF.test(input)
    ? E.right(input)
    : E.left({ _tag: 'BadInput', what: 'PCI address', input, expected: 'DDDD:BB:DD.F in lowercase hex (domain:bus:device.function, device <= 1f, function <= 7)' });

const readTrimmed = (path: string): string | undefined => {
  try {
    const s = readFileSync(path, 'utf8').trim();
    return s === '' ? undefined : s;
  } catch {
    return undefined;
  }
};

const linkBasename = (path: string): string | undefined => {
  try {
    return basename(readlinkSync(path));
  } catch {
    return undefined;
  }
};

/**
 * vendor and device as sysfs writes them ("0x1af4") and the bound driver's
 * name; a field is undefined when absent. A malformed address reads nothing
 * and gives all-undefined (use checkPciAddress for the typed error).
 */
export const readPciIds = (bdf: string): PciIds => {
  if (E.isLeft(checkPciAddress(bdf))) return { vendor: undefined, device: undefined, boundDriver: undefined };
  const dir = `${PCI_DEVICES_DIR}/${bdf}`;
  return { vendor: readTrimmed(`${dir}/vendor`), device: readTrimmed(`${dir}/device`), boundDriver: linkBasename(`${dir}/driver`) };
};
