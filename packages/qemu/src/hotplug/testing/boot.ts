// Test rig: a TCG guest booted with no NIC, N reserved hotplug root ports and
// the control channel, waiting for NICs over it; stopped on teardown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { NetnsHandle } from '@tapwire/sys';
import { renderMachineArgs } from '../../args/render-machine.js';
import { guestImagePaths } from '../../guest/image.js';
import { renderGuestCmdline } from '../../guest/cmdline.js';
import { describeGuestControlError } from '../../guest/control.js';
import { startVm } from '../../vm/start.js';
import type { VmHandle } from '../../vm/handle.js';
import { hotVmOf, type HotVmOf } from '../vm.js';

export interface TestVm {
  readonly handle: VmHandle;
  readonly hot: HotVmOf;
  readonly dir: string;
  readonly bootMs: number;
  readonly stop: () => Promise<void>;
}

export const BOOT_TIMEOUT_MS = 240_000;

export const bootTestVm = async (ns: NetnsHandle, o: { readonly ports: number; readonly cpus: number; readonly memMiB?: number; readonly sharedMemory?: boolean }): Promise<TestVm> => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-hot-'));
  const image = guestImagePaths();
  const append = renderGuestCmdline({ nics: [], control: true, stay: true, waitSeconds: 20 });
  if (E.isLeft(append)) throw new Error(JSON.stringify(append.left));
  const qmpSocket = join(dir, 'qmp.sock');
  const controlSocket = join(dir, 'control.sock');
  const machine = renderMachineArgs({
    accel: 'tcg',
    memMiB: o.memMiB ?? 256,
    cpus: o.cpus,
    kernel: image.kernelElf ?? image.kernel,
    initrd: image.initrd,
    append: append.right,
    qmpSocket,
    serialLog: join(dir, 'serial.log'),
    needsSharedMemory: o.sharedMemory === true,
    hotplugPorts: o.ports,
    controlSocket,
  });
  if (E.isLeft(machine)) throw new Error(JSON.stringify(machine.left));
  const start = Date.now();
  const handle = await startVm({ ns, argv: ['qemu-system-x86_64', ...machine.right], qmpSocket, readyWithinMs: 60_000 })();
  if (E.isLeft(handle)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`startVm: ${JSON.stringify(handle.left)}`);
  }
  const stop = async (): Promise<void> => {
    await handle.right.stop(5_000)();
    rmSync(dir, { recursive: true, force: true });
  };
  const hot = await hotVmOf(handle.right, controlSocket, 'tcg', 30_000)();
  if (E.isLeft(hot)) {
    await stop();
    throw new Error(describeGuestControlError(hot.left));
  }
  const ready = await hot.right.watch.waitFor((e) => e._tag === 'Control' || e._tag === 'GuestError', 0, BOOT_TIMEOUT_MS);
  if (ready === undefined || ready._tag !== 'Control') {
    const text = handle.right.console.history().join('');
    await stop();
    throw new Error(`the guest did not open its control channel: ${JSON.stringify(ready)}\n${text.slice(-2000)}`);
  }
  return {
    handle: handle.right,
    hot: hot.right,
    dir,
    bootMs: Date.now() - start,
    stop: async () => {
      hot.right.close();
      await stop();
    },
  };
};
