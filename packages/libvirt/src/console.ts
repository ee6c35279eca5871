// The guest's serial console, as libvirt's QEMU writes it to a file: polled
// until guest/init's TAPWIRE-DONE line is whole, the time runs out, or the
// domain is gone (the guest powers off when done).
import { readFileSync } from 'node:fs';

export interface ConsoleWatch {
  readonly text: string;
  readonly stoppedBecause: 'done' | 'timeout' | 'gone' | 'aborted';
  /** ms from the start of watching to the first TAPWIRE-NET-UP, when seen. */
  readonly netUpMs: number | undefined;
  readonly doneMs: number | undefined;
}

const POLL_MS = 50;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const readOr = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

export const watchConsole = async (
  file: string,
  timeoutMs: number,
  running: () => Promise<boolean>,
  onChunk?: (chunk: string) => void,
  signal?: AbortSignal,
): Promise<ConsoleWatch> => {
  const start = Date.now();
  let text = '';
  let netUpMs: number | undefined;
  for (let polls = 0; ; polls++) {
    const now = readOr(file);
    if (now.length > text.length) {
      onChunk?.(now.slice(text.length));
      text = now;
    }
    if (netUpMs === undefined && text.includes('TAPWIRE-NET-UP')) netUpMs = Date.now() - start;
    if (/TAPWIRE-DONE[^\n]*\n/.test(text)) return { text, stoppedBecause: 'done', netUpMs, doneMs: Date.now() - start };
    if (Date.now() - start > timeoutMs) return { text, stoppedBecause: 'timeout', netUpMs, doneMs: undefined };
    if (signal?.aborted === true) return { text, stoppedBecause: 'aborted', netUpMs, doneMs: undefined };
    // Asking the daemon costs a spawn: once a second is enough to notice a dead guest.
    if (polls % 20 === 19 && !(await running())) {
      const last = readOr(file);
      if (last.length > text.length) onChunk?.(last.slice(text.length));
      return { text: last.length > text.length ? last : text, stoppedBecause: /TAPWIRE-DONE[^\n]*\n/.test(last) ? 'done' : 'gone', netUpMs, doneMs: undefined };
    }
    await sleep(POLL_MS);
  }
};
