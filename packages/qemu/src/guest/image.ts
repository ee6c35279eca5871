// Where the guest image comes from: scripts/build-guest.sh (idempotent, so
// calling it before every boot costs ~0.1 s once the image exists).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { run, type SysError } from '@tapwire/sys';

/** This file is packages/qemu/{src,dist}/guest/image.*; the repo root is four levels up. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export const GUEST_BUILD_SCRIPT = `${REPO_ROOT}scripts/build-guest.sh`;
export const DEFAULT_GUEST_CACHE_DIR = `${REPO_ROOT}.cache/guest`;

export interface GuestImage {
  /** The distribution's compressed kernel (bzImage). */
  readonly kernel: string;
  readonly initrd: string;
  /**
   * The same kernel as an uncompressed ELF with a PVH entry, when the kernel
   * has one: `-kernel` it instead of `kernel` to skip the guest-side
   * decompression (about 4-5 s under TCG).
   */
  readonly kernelElf: string | undefined;
}

/** The files build-guest.sh leaves in cacheDir (vmlinux only if it exists). */
export const guestImagePaths = (cacheDir: string = DEFAULT_GUEST_CACHE_DIR): GuestImage => ({
  kernel: `${cacheDir}/vmlinuz`,
  initrd: `${cacheDir}/initrd.img`,
  kernelElf: existsSync(`${cacheDir}/vmlinux`) ? `${cacheDir}/vmlinux` : undefined,
});

/** Builds the image unless it is up to date; needs root the first time on a fresh host (apt-get). */
export const buildGuestImage = (cacheDir: string = DEFAULT_GUEST_CACHE_DIR): TE.TaskEither<SysError, GuestImage> =>
  pipe(
    run(['sh', GUEST_BUILD_SCRIPT, cacheDir]),
    TE.map(() => guestImagePaths(cacheDir)),
  );
