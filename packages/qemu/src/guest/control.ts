// The host end of the guest control channel: the virtio-serial port tapwire.0
// (render-machine.ts) that guest/init reads after TAPWIRE-DONE when booted with
// tapwire.control=1. A batch is the command line's tapwire.* values as lines,
//   nic <value> | route <value> | ping <value> | exact
// then `apply <tag>`; the guest configures them exactly as at boot and answers
// on the console with TAPWIRE-NIC <mac> up|missing and TAPWIRE-APPLIED <tag>.
// `gone <mac>` asks it to confirm an unplugged NIC has left (TAPWIRE-NIC gone).
// No command-line length limit applies here, so a pod of any size fits.
import { connect, type Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import { renderGuestWords, type GuestConfig } from './cmdline.js';
import { parseConsoleLine, splitConsoleLines, type GuestEvent } from './console.js';
import { describeGuestCmdlineError, type GuestCmdlineError } from './errors.js';
import { parseMac } from './ip.js';

export type GuestControlError =
  | { readonly _tag: 'GuestConfig'; readonly error: GuestCmdlineError }
  | { readonly _tag: 'ControlConnect'; readonly socket: string; readonly detail: string }
  | { readonly _tag: 'ControlClosed'; readonly socket: string }
  /** The guest did not answer on the console in time. */
  | { readonly _tag: 'ControlTimeout'; readonly waitingFor: string; readonly ms: number }
  | { readonly _tag: 'BadControlValue'; readonly field: string; readonly input: string; readonly expected: string };

export const describeGuestControlError = (e: GuestControlError): string => {
  switch (e._tag) {
    case 'GuestConfig':
      return describeGuestCmdlineError(e.error);
    case 'ControlConnect':
      return `guest control socket ${e.socket}: ${e.detail}`;
    case 'ControlClosed':
      return `guest control socket ${e.socket} closed`;
    case 'ControlTimeout':
      return `the guest did not report ${e.waitingFor} within ${e.ms} ms`;
    case 'BadControlValue':
      return `guest control: bad ${e.field} ${JSON.stringify(e.input)}, expected ${e.expected}`;
  }
};

/** What a batch configures: the command line's NIC part. */
export type GuestBatch = Pick<GuestConfig, 'nics' | 'routes' | 'ping' | 'exactRouting'>;

const LINE_OF: readonly [string, string][] = [
  ['tapwire.nic=', 'nic '],
  ['tapwire.route=', 'route '],
  ['tapwire.ping=', 'ping '],
];
const TAG_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The batch's lines, checked exactly as renderGuestCmdline checks a command line. */
export const renderControlBatch = (batch: GuestBatch, tag: string): E.Either<GuestControlError, string[]> => {
  if (!TAG_RE.test(tag)) return E.left({ _tag: 'BadControlValue', field: 'tag', input: tag, expected: '1 to 64 of A-Z a-z 0-9 _ . -' });
  const words = renderGuestWords({ nics: batch.nics, ...(batch.routes === undefined ? {} : { routes: batch.routes }), ...(batch.ping === undefined ? {} : { ping: batch.ping }), exactRouting: batch.exactRouting === true });
  if (E.isLeft(words)) return E.left({ _tag: 'GuestConfig', error: words.left });
  const lines = words.right.flatMap((w): string[] => {
    if (w === 'tapwire.routing=exact') return ['exact'];
    const hit = LINE_OF.find(([prefix]) => w.startsWith(prefix));
    return hit === undefined ? [] : [`${hit[1]}${w.slice(hit[0].length)}`];
  });
  return E.right([...lines, `apply ${tag}`]);
};

/** Console reports as they stream in, for waiting on one. */
export interface ConsoleWatch {
  readonly feed: (chunk: string) => void;
  readonly events: () => readonly GuestEvent[];
  /** The first event from index `from` that matches, within timeoutMs. */
  readonly waitFor: (matches: (e: GuestEvent) => boolean, from: number, timeoutMs: number) => Promise<GuestEvent | undefined>;
}

/** Malformed report lines are skipped here: the boot's own parse reports them. */
export const consoleWatch = (): ConsoleWatch => {
  const events: GuestEvent[] = [];
  const waiters = new Set<() => void>();
  let rest = '';
  const feed = (chunk: string): void => {
    const split = splitConsoleLines(rest + chunk);
    rest = split.rest;
    for (const line of split.lines) {
      const ev = parseConsoleLine(line);
      if (E.isRight(ev) && ev.right !== null) events.push(ev.right);
    }
    for (const w of [...waiters]) w();
  };
  const waitFor = (matches: (e: GuestEvent) => boolean, from: number, timeoutMs: number): Promise<GuestEvent | undefined> =>
    new Promise((resolve) => {
      const check = (): boolean => {
        const found = events.slice(from).find(matches);
        if (found === undefined) return false;
        done(found);
        return true;
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (r: GuestEvent | undefined): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(r);
      };
      const wake = (): void => void check();
      if (!check()) waiters.add(wake);
    });
  return { feed, events: () => events, waitFor };
};

export interface GuestControl {
  readonly socket: string;
  /** Sends a batch and waits for TAPWIRE-APPLIED; returns the reports in between. */
  readonly apply: (batch: GuestBatch, tag: string, timeoutMs: number) => Promise<E.Either<GuestControlError, readonly GuestEvent[]>>;
  /** Asks whether the NIC with `mac` has left the guest: true when gone, false when still there. */
  readonly gone: (mac: string, timeoutMs: number) => Promise<E.Either<GuestControlError, boolean>>;
  readonly close: () => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RETRY_MS = 50;

const connectOnce = (socket: string): Promise<E.Either<string, Socket>> =>
  new Promise((resolve) => {
    const s = connect(socket);
    s.once('connect', () => resolve(E.right(s)));
    s.once('error', (e) => resolve(E.left(e.message)));
  });

/** Connects to the socket QEMU listens on for the port; `watch` sees the guest's console. */
export const connectGuestControl = async (socket: string, watch: ConsoleWatch, timeoutMs: number): Promise<E.Either<GuestControlError, GuestControl>> => {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing tried';
  let sock: Socket | undefined;
  while (sock === undefined) {
    const s = await connectOnce(socket);
    if (E.isRight(s)) sock = s.right;
    else {
      last = s.left;
      if (Date.now() >= deadline) return E.left({ _tag: 'ControlConnect', socket, detail: `nothing answered within ${timeoutMs} ms (${last})` });
      await sleep(RETRY_MS);
    }
  }
  const conn = sock;
  let closed = false;
  conn.on('error', () => undefined);
  conn.on('close', () => {
    closed = true;
  });
  // The guest never writes on the port; anything read is dropped.
  conn.resume();
  const write = (lines: readonly string[]): Promise<E.Either<GuestControlError, void>> =>
    new Promise((resolve) => {
      if (closed) return resolve(E.left({ _tag: 'ControlClosed', socket }));
      conn.write(lines.map((l) => `${l}\n`).join(''), (err) => resolve(err === undefined || err === null ? E.right(undefined) : E.left({ _tag: 'ControlClosed', socket })));
    });
  const apply = async (batch: GuestBatch, tag: string, ms: number): Promise<E.Either<GuestControlError, readonly GuestEvent[]>> => {
    const lines = renderControlBatch(batch, tag);
    if (E.isLeft(lines)) return lines;
    const from = watch.events().length;
    const sent = await write(lines.right);
    if (E.isLeft(sent)) return sent;
    const done = await watch.waitFor((e) => e._tag === 'Applied' && e.tag === tag, from, ms);
    if (done === undefined) return E.left({ _tag: 'ControlTimeout', waitingFor: `TAPWIRE-APPLIED ${tag}`, ms });
    const events = watch.events().slice(from);
    return E.right(events.slice(0, events.indexOf(done)));
  };
  const gone = async (mac: string, ms: number): Promise<E.Either<GuestControlError, boolean>> => {
    const m = parseMac(mac);
    if (m === undefined) return E.left({ _tag: 'BadControlValue', field: 'mac', input: mac, expected: 'six colon-separated hex octets' });
    const from = watch.events().length;
    const sent = await write([`gone ${m}`]);
    if (E.isLeft(sent)) return sent;
    const ev = await watch.waitFor((e) => e._tag === 'NicState' && e.mac === m && (e.state === 'gone' || e.state === 'present'), from, ms);
    if (ev === undefined || ev._tag !== 'NicState') return E.left({ _tag: 'ControlTimeout', waitingFor: `TAPWIRE-NIC ${m} gone|present`, ms });
    return E.right(ev.state === 'gone');
  };
  return E.right({ socket, apply, gone, close: () => conn.destroy() });
};
