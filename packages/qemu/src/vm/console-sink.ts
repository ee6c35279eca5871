// Where a VM's console chunks go: the console feed, and every whole line that
// matches the marker pattern as a console event. Shared by startVm (QEMU's
// stdout, or its serial log for a VM that outlives us) and reconnectVm.
import { closeSync, openSync, readSync } from 'node:fs';
import type { FeedWriter } from './feed.js';
import type { VmEvent } from './handle.js';

export const consoleSink = (consoleFeed: FeedWriter<string>, eventFeed: FeedWriter<VmEvent>, marker: RegExp) => {
  let line = '';
  return (chunk: string): void => {
    consoleFeed.push(chunk);
    line += chunk;
    let nl: number;
    while ((nl = line.indexOf('\n')) >= 0) {
      const whole = line.slice(0, nl).replace(/\r$/, '');
      line = line.slice(nl + 1);
      const m = marker.exec(whole);
      if (m !== null) eventFeed.push({ kind: 'console', marker: m[0], line: whole });
    }
  };
};

/**
 * Follows a file QEMU appends to (its serial logfile), from `from` bytes on,
 * polling: a file another process writes gives no reliable change events.
 * Returns the stop function (it reads what is left once more).
 */
export const followFile = (path: string, from: number, onChunk: (chunk: string) => void, everyMs = 100): (() => void) => {
  let offset = from;
  const buf = Buffer.alloc(64 * 1024);
  const readNew = () => {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return; // not there yet
    }
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        onChunk(buf.subarray(0, n).toString('utf8'));
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(readNew, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    readNew();
  };
};
