// KVM when it works, else TCG. A /dev/kvm that opens but whose guests hang
// (nested virtualisation gone wrong: the kernel stops after "Probing EDD") is
// only found by running a guest, so the launcher boots with KVM, watches for
// the guest's first line within a deadline, and falls back to TCG. The
// verdict is remembered until the host reboots, so the cost is paid once.
import { closeSync, constants, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';

export type AccelChoice = 'auto' | 'kvm' | 'tcg';

const CACHE_DIR = '/run/tapwire';
const CACHE = `${CACHE_DIR}/kvm-verdict.json`;

const bootId = (): string => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
};

export const kvmOpens = (): boolean => {
  try {
    closeSync(openSync('/dev/kvm', constants.O_RDWR));
    return true;
  } catch {
    return false;
  }
};

export const rememberedKvmHang = (): boolean => {
  try {
    const v = JSON.parse(readFileSync(CACHE, 'utf8')) as { bootId?: string; hangs?: boolean };
    return v.bootId === bootId() && v.hangs === true;
  } catch {
    return false;
  }
};

export const rememberKvm = (hangs: boolean): void => {
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    writeFileSync(CACHE, JSON.stringify({ bootId: bootId(), hangs, at: new Date().toISOString() }));
  } catch {
    // Only a cache: without it the next launch probes again.
  }
};

/** The accelerators to try in order, with a note for the user when KVM is passed over. */
export const accelPlan = (choice: AccelChoice): { readonly order: readonly ('kvm' | 'tcg')[]; readonly note: string | undefined } => {
  if (choice === 'tcg') return { order: ['tcg'], note: undefined };
  if (choice === 'kvm') return { order: ['kvm'], note: undefined };
  if (!kvmOpens()) return { order: ['tcg'], note: 'no usable /dev/kvm: using TCG' };
  if (rememberedKvmHang()) return { order: ['tcg'], note: 'KVM hung a guest earlier since this host booted: using TCG' };
  return { order: ['kvm', 'tcg'], note: undefined };
};

/** How long a KVM guest may stay silent before we call KVM hung (a working one speaks within ~2 s). */
export const KVM_PROGRESS_MS = 8000;
