// Watching a started VM until its guest has proved the network (the console's
// TAPWIRE-DONE line), or a timeout, a stall, an interrupt or QEMU's own exit
// ends the watch; then the VM is stopped through its handle (QMP quit, then
// SIGKILL). A second abort does not wait for the quit grace. What the console said is parsed by the caller.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { VmExit, VmHandle } from '../vm/handle.js';

export type StoppedBecause = 'done' | 'timeout' | 'signal' | 'stalled';

export interface Proof {
  readonly console: string;
  readonly stoppedBecause: StoppedBecause | undefined;
  readonly exit: VmExit;
}

export interface ProveOptions {
  readonly timeoutMs: number;
  /** Stop as 'stalled' when the console has not matched `marker` by `withinMs` (a hung KVM). */
  readonly progress?: { readonly marker: RegExp; readonly withinMs: number };
  readonly onConsole?: (chunk: string) => void;
  /** An abort stops the VM as 'signal' (launchPod aborts on SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** The whole line that ends the watch as 'done'; default TAPWIRE-DONE (a control-channel boot ends on TAPWIRE-APPLIED). */
  readonly done?: RegExp;
}

/** A whole DONE line: stopping on a partial one would cut its fields off. */
const DONE = /TAPWIRE-DONE[^\n]*\n/;

/** Never fails: how the watch ended is in the Proof (a TaskEither, as every public effect). */
export const proveGuest =
  (vm: VmHandle, o: ProveOptions): TE.TaskEither<never, Proof> =>
  async () => {
    let seen = '';
    const done = o.done ?? DONE;
    let stoppedBecause: StoppedBecause | undefined;
    const stop = (why: StoppedBecause) => {
      if (stoppedBecause !== undefined && why !== 'signal') return;
      const first = stoppedBecause === undefined;
      stoppedBecause ??= why;
      // A second signal does not wait for the quit grace.
      void vm.stop(first ? undefined : 0)();
    };
    const take = (chunk: string) => {
      seen += chunk;
      o.onConsole?.(chunk);
      if (done.test(seen)) stop('done');
    };
    // What came before we listened (QEMU runs while startVm reads query-pci), then the rest.
    for (const chunk of vm.console.history()) take(chunk);
    const off = vm.console.on(take);
    const timer = setTimeout(() => stop('timeout'), o.timeoutMs);
    const progress = o.progress;
    const progressTimer = progress === undefined ? undefined : setTimeout(() => (progress.marker.test(seen) ? undefined : stop('stalled')), progress.withinMs);
    const onSignal = () => stop('signal');
    o.signal?.addEventListener('abort', onSignal);
    if (o.signal?.aborted === true) onSignal();
    try {
      const exit = await vm.exited;
      return E.right({ console: seen, stoppedBecause, exit });
    } finally {
      off();
      clearTimeout(timer);
      if (progressTimer !== undefined) clearTimeout(progressTimer);
      o.signal?.removeEventListener('abort', onSignal);
    }
  };
