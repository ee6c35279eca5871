// Reads what guest/init reports on the serial console. Every report is one
// line starting with TAPWIRE-; everything else (firmware, kernel) is ignored.
// A line that starts with TAPWIRE- but does not match its grammar is an
// error, never skipped: a half-understood report must not pass as success.
//
//   TAPWIRE-START <kernel-release> uptime=<s>
//   TAPWIRE-NET-UP <ifname> <mac> <ADDR/PREFIX,...|-> mtu=<n> uptime=<s>
//   TAPWIRE-QUEUES <ifname> <rx queues the driver enabled>
//   TAPWIRE-ROUTE <dst> ok
//   TAPWIRE-ROUTE <dst> fail <detail>
//   TAPWIRE-RT <4|6> <one line of the guest's ip route / ip -6 route>
//   TAPWIRE-ROUTING ok routes=<n> | TAPWIRE-ROUTING mismatch missing=<n> extra=<n>
//   TAPWIRE-PING <addr> ok sent=<n> recv=<n> rtt_ms=<avg> round=<n>
//   TAPWIRE-PING <addr> fail <detail>
//   TAPWIRE-ERROR <code> <detail>
//   TAPWIRE-DONE uptime=<s>
//   TAPWIRE-CONTROL <port device>                the guest reads the control channel
//   TAPWIRE-NIC <mac> up <ifname> | gone | missing | present <ifname>
//   TAPWIRE-APPLIED <tag>                        a control batch is done (control.ts)
import * as E from 'fp-ts/lib/Either.js';
import { parseCidr, parseIp, parseMac } from './ip.js';
import { parseRouteText, type RoutingEntry } from './route-table.js';

export type GuestEvent =
  | { readonly _tag: 'Start'; readonly kernel: string; readonly uptime: number }
  | {
      readonly _tag: 'NetUp';
      readonly ifname: string;
      readonly mac: string;
      /** Global-scope addresses the guest kernel holds, as it prints them. */
      readonly addresses: readonly string[];
      readonly mtu: number;
      readonly uptime: number;
    }
  | { readonly _tag: 'Queues'; readonly ifname: string; readonly count: number }
  | { readonly _tag: 'RouteOk'; readonly dst: string }
  | { readonly _tag: 'RouteFail'; readonly dst: string; readonly detail: string }
  /** A route of the guest's main table as its ip printed it; entry undefined when not unicast. */
  | { readonly _tag: 'RouteEntry'; readonly family: 4 | 6; readonly text: string; readonly entry: RoutingEntry | undefined }
  /** The guest compared its routing with what it was told (each difference is a route-missing/route-extra error). */
  | { readonly _tag: 'Routing'; readonly ok: boolean; readonly routes: number; readonly missing: number; readonly extra: number }
  | { readonly _tag: 'PingOk'; readonly addr: string; readonly sent: number; readonly recv: number; readonly rttMs: number; readonly round: number }
  | { readonly _tag: 'PingFail'; readonly addr: string; readonly detail: string }
  /** code: module, bad-param, nic-missing, rename, link, addr, no-carrier, route-missing, route-extra. */
  | { readonly _tag: 'GuestError'; readonly code: string; readonly detail: string }
  | { readonly _tag: 'Done'; readonly uptime: number }
  | { readonly _tag: 'Control'; readonly port: string }
  /** After a control batch (up, missing) or a `gone` question (gone, present). */
  | { readonly _tag: 'NicState'; readonly mac: string; readonly state: 'up' | 'gone' | 'missing' | 'present'; readonly ifname: string | undefined }
  | { readonly _tag: 'Applied'; readonly tag: string };

export interface ConsoleParseError {
  readonly _tag: 'MalformedConsoleLine';
  /** 1-based, counting every line of the input. */
  readonly lineNumber: number;
  readonly line: string;
  readonly expected: string;
}

const PREFIX = 'TAPWIRE-';
// Firmware and the kernel leave terminal controls (ESC c, ESC[2J, ...) at the
// start of the line guest/init writes to first.
const TERMINAL_CONTROLS = /\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_]|c)|[\x00-\x08\x0b-\x1f\x7f]/g;

const UPTIME = String.raw`uptime=(\d+\.\d+)`;
const IFNAME = String.raw`([^\s/:]{1,15})`;
const GRAMMAR: readonly { readonly kind: string; readonly re: RegExp; readonly expected: string }[] = [
  { kind: 'START', re: new RegExp(`^(\\S+) ${UPTIME}$`), expected: 'START <kernel-release> uptime=<seconds>' },
  {
    kind: 'NET-UP',
    re: new RegExp(`^${IFNAME} (\\S+) (\\S+) mtu=(\\d+) ${UPTIME}$`),
    expected: 'NET-UP <ifname> <mac> <ADDR/PREFIX,...|-> mtu=<n> uptime=<seconds>',
  },
  { kind: 'QUEUES', re: new RegExp(`^${IFNAME} (\\d+)$`), expected: 'QUEUES <ifname> <count>' },
  { kind: 'ROUTE', re: /^(\S+) (?:(ok)|fail (\S.*))$/, expected: 'ROUTE <dst> ok|fail <detail>' },
  { kind: 'RT', re: /^([46]) (\S.*)$/, expected: 'RT <4|6> <route as ip prints it>' },
  {
    kind: 'ROUTING',
    re: /^(?:ok routes=(\d+)|mismatch missing=(\d+) extra=(\d+))$/,
    expected: 'ROUTING ok routes=<n> | ROUTING mismatch missing=<n> extra=<n>',
  },
  {
    kind: 'PING',
    re: /^(\S+) (?:ok sent=(\d+) recv=(\d+) rtt_ms=(\d+(?:\.\d+)?) round=(\d+)|fail (\S.*))$/,
    expected: 'PING <addr> ok sent=<n> recv=<n> rtt_ms=<ms> round=<n> | PING <addr> fail <detail>',
  },
  { kind: 'ERROR', re: /^([a-z][a-z-]*) (\S.*)$/, expected: 'ERROR <code> <detail>' },
  { kind: 'DONE', re: new RegExp(`^${UPTIME}$`), expected: 'DONE uptime=<seconds>' },
  { kind: 'CONTROL', re: /^(\S+)$/, expected: 'CONTROL <port device>' },
  { kind: 'NIC', re: new RegExp(`^(\\S+) (?:(up|present) ${IFNAME}|(gone|missing))$`), expected: 'NIC <mac> up|present <ifname> | NIC <mac> gone|missing' },
  { kind: 'APPLIED', re: /^([A-Za-z0-9_.-]{1,64})$/, expected: 'APPLIED <tag>' },
];

const KINDS = GRAMMAR.map((g) => g.kind).join(', ');

/** The line without terminal controls and trailing blanks (serial lines end in \r). */
export const cleanConsoleLine = (line: string): string => line.replace(TERMINAL_CONTROLS, '').trimEnd();

const toEvent = (kind: string, m: RegExpExecArray): E.Either<string, GuestEvent> => {
  const g = (i: number): string => m[i] ?? '';
  switch (kind) {
    case 'START':
      return E.right({ _tag: 'Start', kernel: g(1), uptime: Number(g(2)) });
    case 'NET-UP': {
      const mac = parseMac(g(2));
      if (mac === undefined) return E.left('a MAC as six colon-separated hex octets');
      const addrs = g(3) === '-' ? [] : g(3).split(',');
      if (addrs.some((a) => parseCidr(a) === undefined)) return E.left("comma-separated ADDR/PREFIX values or '-'");
      return E.right({ _tag: 'NetUp', ifname: g(1), mac, addresses: addrs, mtu: Number(g(4)), uptime: Number(g(5)) });
    }
    case 'QUEUES':
      return E.right({ _tag: 'Queues', ifname: g(1), count: Number(g(2)) });
    case 'ROUTE':
      if (parseCidr(g(1)) === undefined) return E.left('a DST/PREFIX destination');
      return E.right(m[2] === 'ok' ? { _tag: 'RouteOk', dst: g(1) } : { _tag: 'RouteFail', dst: g(1), detail: g(3) });
    case 'RT': {
      const family = g(1) === '6' ? 6 : 4;
      return E.right({ _tag: 'RouteEntry', family, text: g(2), entry: parseRouteText(family, g(2)) });
    }
    case 'ROUTING':
      return E.right(
        m[1] !== undefined
          ? { _tag: 'Routing', ok: true, routes: Number(g(1)), missing: 0, extra: 0 }
          : { _tag: 'Routing', ok: false, routes: 0, missing: Number(g(2)), extra: Number(g(3)) },
      );
    case 'PING':
      if (parseIp(g(1)) === undefined) return E.left('an IP address to ping');
      return E.right(
        m[2] !== undefined
          ? { _tag: 'PingOk', addr: g(1), sent: Number(g(2)), recv: Number(g(3)), rttMs: Number(g(4)), round: Number(g(5)) }
          : { _tag: 'PingFail', addr: g(1), detail: g(6) },
      );
    case 'ERROR':
      return E.right({ _tag: 'GuestError', code: g(1), detail: g(2) });
    case 'CONTROL':
      return E.right({ _tag: 'Control', port: g(1) });
    case 'NIC': {
      const mac = parseMac(g(1));
      if (mac === undefined) return E.left('a MAC as six colon-separated hex octets');
      const state = (m[2] ?? m[4]) as 'up' | 'gone' | 'missing' | 'present';
      return E.right({ _tag: 'NicState', mac, state, ifname: m[3] });
    }
    case 'APPLIED':
      return E.right({ _tag: 'Applied', tag: g(1) });
    default:
      return E.right({ _tag: 'Done', uptime: Number(g(1)) });
  }
};

/**
 * One console line: an event, null for a line that is not a report, or an
 * error for a report that breaks the grammar.
 */
export const parseConsoleLine = (raw: string, lineNumber = 1): E.Either<ConsoleParseError, GuestEvent | null> => {
  const line = cleanConsoleLine(raw);
  if (!line.startsWith(PREFIX)) return E.right(null);
  const rest = line.slice(PREFIX.length);
  const bad = (expected: string): E.Either<ConsoleParseError, never> =>
    E.left({ _tag: 'MalformedConsoleLine', lineNumber, line, expected: `TAPWIRE-${expected}` });
  for (const { kind, re, expected } of GRAMMAR) {
    if (!rest.startsWith(`${kind} `) && rest !== kind) continue;
    const m = re.exec(rest.slice(kind.length + 1));
    if (m === null) return bad(expected);
    const ev = toEvent(kind, m);
    return E.isLeft(ev) ? bad(`${expected} with ${ev.left}`) : E.right(ev.right);
  }
  return bad(`<one of ${KINDS}> ...`);
};

/** Every report in a whole console capture, in order; stops at the first malformed one. */
export const parseConsole = (text: string): E.Either<ConsoleParseError, readonly GuestEvent[]> => {
  const events: GuestEvent[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const ev = parseConsoleLine(line, i + 1);
    if (E.isLeft(ev)) return ev;
    if (ev.right !== null) events.push(ev.right);
  }
  return E.right(events);
};

/** For streams: the complete lines so far and the unterminated rest to keep. */
export const splitConsoleLines = (buffer: string): { readonly lines: readonly string[]; readonly rest: string } => {
  const end = buffer.lastIndexOf('\n');
  return end < 0 ? { lines: [], rest: buffer } : { lines: buffer.slice(0, end).split('\n'), rest: buffer.slice(end + 1) };
};

export const describeConsoleParseError = (e: ConsoleParseError): string =>
  `console line ${e.lineNumber} ${JSON.stringify(e.line)} is malformed: expected ${e.expected}`;

/** The events folded into what a caller asks: is the net up, did the pings pass. */
export interface GuestReport {
  readonly kernel: string | undefined;
  readonly nics: readonly Extract<GuestEvent, { _tag: 'NetUp' }>[];
  /** Queue count per guest interface name. */
  readonly queues: Readonly<Record<string, number>>;
  readonly routes: readonly Extract<GuestEvent, { _tag: 'RouteOk' | 'RouteFail' }>[];
  /** The guest's main routing table (IPv4 then IPv6) as it printed it after adding the routes. */
  readonly table: readonly Extract<GuestEvent, { _tag: 'RouteEntry' }>[];
  /** The guest's own check of that table against what it was told; undefined if it never got there. */
  readonly routing: Extract<GuestEvent, { _tag: 'Routing' }> | undefined;
  readonly pings: readonly Extract<GuestEvent, { _tag: 'PingOk' | 'PingFail' }>[];
  readonly errors: readonly Extract<GuestEvent, { _tag: 'GuestError' }>[];
  readonly done: boolean;
  /** DONE seen, no guest error, every route installed, the routing exactly as told and every ping answered. */
  readonly ok: boolean;
}

export const summarizeGuest = (events: readonly GuestEvent[]): GuestReport => {
  let kernel: string | undefined;
  const nics: Extract<GuestEvent, { _tag: 'NetUp' }>[] = [];
  const queues: Record<string, number> = {};
  const routes: Extract<GuestEvent, { _tag: 'RouteOk' | 'RouteFail' }>[] = [];
  const table: Extract<GuestEvent, { _tag: 'RouteEntry' }>[] = [];
  let routing: Extract<GuestEvent, { _tag: 'Routing' }> | undefined;
  const pings: Extract<GuestEvent, { _tag: 'PingOk' | 'PingFail' }>[] = [];
  const errors: Extract<GuestEvent, { _tag: 'GuestError' }>[] = [];
  let done = false;
  for (const ev of events) {
    switch (ev._tag) {
      case 'Start':
        kernel = ev.kernel;
        break;
      case 'NetUp':
        nics.push(ev);
        break;
      case 'Queues':
        queues[ev.ifname] = ev.count;
        break;
      case 'RouteOk':
      case 'RouteFail':
        routes.push(ev);
        break;
      case 'RouteEntry':
        table.push(ev);
        break;
      case 'Routing':
        routing = ev;
        break;
      case 'PingOk':
      case 'PingFail':
        pings.push(ev);
        break;
      case 'GuestError':
        errors.push(ev);
        break;
      case 'Done':
        done = true;
        break;
    }
  }
  const ok =
    done &&
    errors.length === 0 &&
    routes.every((r) => r._tag === 'RouteOk') &&
    (routing === undefined || routing.ok) &&
    pings.every((p) => p._tag === 'PingOk');
  return { kernel, nics, queues, routes, table, routing, pings, errors, done, ok };
};
