// Waiting for a QMP event (DEVICE_DELETED after device_del, ...) on a client
// that keeps every event it received, in order.
import type { Qmp, QmpEvent } from './qmp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The first event from index `from` of qmp.events() on that `matches`, within
 * `timeoutMs`; undefined when none came (or the connection closed). Events are
 * kept from the start, so one that came before this call is found too.
 */
export const waitForEvent = async (qmp: Qmp, matches: (e: QmpEvent) => boolean, timeoutMs: number, from = 0): Promise<QmpEvent | undefined> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = qmp.events().slice(from).find(matches);
    if (found !== undefined) return found;
    if (qmp.closed() || Date.now() >= deadline) return undefined;
    await sleep(Math.min(EVENT_POLL_MS, Math.max(1, deadline - Date.now())));
  }
};
const EVENT_POLL_MS = 20;
