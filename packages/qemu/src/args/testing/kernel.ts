// A Linux kernel QEMU can load: -kernel is read at machine init even with -S.
import { existsSync, readdirSync, symlinkSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ciStrict } from '@tapwire/testkit';

const findKernel = (): { kernel: string; initrd: string | undefined } | undefined => {
  const own = `/boot/vmlinuz-${release()}`;
  const name = existsSync(own) ? `vmlinuz-${release()}` : (() => {
    try {
      return readdirSync('/boot').find((f) => f.startsWith('vmlinuz-'));
    } catch {
      return undefined;
    }
  })();
  if (name === undefined) return undefined;
  const initrd = `/boot/initrd.img-${name.slice('vmlinuz-'.length)}`;
  return { kernel: `/boot/${name}`, initrd: existsSync(initrd) ? initrd : undefined };
};

/**
 * The host's kernel (and initrd), linked into `dir` so their paths hold a
 * comma too. Same contract as requireCommand when there is none.
 */
export const requireKernelIn = (t: ExecutionContext, dir: string): { kernel: string; initrd: string | undefined } | undefined => {
  const found = findKernel();
  if (found === undefined) {
    if (ciStrict()) t.fail('this test needs a kernel in /boot and CI=true forbids skipping it');
    else {
      t.log('SKIPPED: needs a kernel in /boot');
      t.pass();
    }
    return undefined;
  }
  const kernel = join(dir, 'vmlinuz,k');
  symlinkSync(found.kernel, kernel);
  if (found.initrd === undefined) return { kernel, initrd: undefined };
  const initrd = join(dir, 'initrd,k');
  symlinkSync(found.initrd, initrd);
  return { kernel, initrd };
};
