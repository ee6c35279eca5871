// The kernel command line that tells guest/init how to become the pod. The
// kernel splits it on blanks (and double quotes), and guest/init splits each
// tapwire.* value on commas, so no value may hold a blank, a quote, a comma
// or an '='. Every value is checked here; the guest trusts what it gets.
//
//   console=ttyS0 panic=1 quiet
//   tapwire.wait=SECONDS                                      optional, default 10
//   tapwire.nic=MAC[,ADDR/PREFIX[+noprefixroute]...][,mtu=N][,name=IFNAME][,linklocal=off]   one per NIC
//   tapwire.route=DST/PREFIX[,via=GW][,dev=N][,src=ADDR][,metric=N][,scope=link|host][,onlink][,kernel]
//                                                             dev: 1-based index of the tapwire.nic word
//                                                             (guest/init also takes a MAC)
//                                                             in order, after all NICs are up
//   tapwire.routing=exact                                     optional: routes not told are errors
//   tapwire.ping=ADDR                                         one per target
//   tapwire.stay=1                                            optional: no poweroff after DONE
//   tapwire.control=1                                         optional: then read the control channel
import * as E from 'fp-ts/lib/Either.js';
import { invalidGuestValue, type GuestCmdlineError } from './errors.js';
import {
  isIpv6LinkLocal,
  isNetworkAddress,
  formatIp,
  isUnicastMac,
  nonUnicastReason,
  parseCidr,
  parseIp,
  parseMac,
  type ParsedCidr,
} from './ip.js';

/** An address the kernel must not make a prefix route for (the pod had none: a ptp plugin routes its prefix through the gateway). */
export interface GuestAddress {
  readonly cidr: string;
  readonly noPrefixRoute: boolean;
}

export interface GuestNic {
  /** Matches the guest NIC: the MAC given to QEMU's -device (the pod interface's MAC). */
  readonly mac: string;
  /** ADDR/PREFIX, IPv4 or IPv6, added in order; a plain string gets the kernel's prefix route. */
  readonly addresses?: readonly (string | GuestAddress)[];
  /** false: no IPv6 link-local address and so no fe80::/64 route, as on a pod link that had none (default true). */
  readonly linkLocal?: boolean;
  readonly mtu?: number;
  /** Renames the guest NIC (e.g. to the pod's eth0); without it the guest's own name stays. */
  readonly name?: string;
}

export interface GuestRoute {
  /** DST/PREFIX with no host bits set; 0.0.0.0/0 or ::/0 for a default route. */
  readonly dst: string;
  readonly via?: string;
  /** MAC of one of the config's NICs: routes through that NIC (needed for on-link and fe80:: gateways). */
  readonly dev?: string;
  /** Preferred source address (`src`). */
  readonly src?: string;
  /** Default: 0 for IPv4; for IPv6 1024 (256 for a kernel route), what the kernel fills in. */
  readonly metric?: number;
  /** Default global (universe). */
  readonly scope?: 'link' | 'host';
  readonly onlink?: boolean;
  /**
   * The kernel makes this route itself (an address's prefix route, fe80::/64):
   * the guest does not add it, it only checks that it is there.
   */
  readonly kernel?: boolean;
}

export interface GuestConfig {
  readonly nics: readonly GuestNic[];
  readonly routes?: readonly GuestRoute[];
  /**
   * The routes (kernel ones included) are the NICs' whole routing: the guest
   * reports any other route on them as an error. Without it, it only checks
   * that every route told is there.
   */
  readonly exactRouting?: boolean;
  /** Addresses the guest pings once its network is up; each gets a TAPWIRE-PING line. */
  readonly ping?: readonly string[];
  /** How long the guest waits for each NIC to appear and get carrier (guest default 10). */
  readonly waitSeconds?: number;
  /**
   * After TAPWIRE-DONE, read NIC configs from the control channel (the
   * virtio-serial port tapwire.0, see control.ts) and stay up.
   */
  readonly control?: boolean;
  /** Keep the guest running after TAPWIRE-DONE instead of powering off. */
  readonly stay?: boolean;
  /** Serial console for the kernel and the TAPWIRE- lines; default ttyS0. */
  readonly console?: string;
  /** Kernel messages below warnings stay off the console, so TAPWIRE- lines are not interleaved (default true). */
  readonly quiet?: boolean;
  /**
   * panic=N: seconds before the kernel reboots after a panic (default 1). If
   * PID 1 dies the kernel panics; with QEMU's -no-reboot the VM then exits
   * instead of hanging. 0 would wait forever.
   */
  readonly panicSeconds?: number;
}

/** x86's COMMAND_LINE_SIZE is 2048 bytes including the terminating NUL. */
export const GUEST_CMDLINE_MAX = 2047;
/** guest/init renames through twtmp<N>, so NIC names must not start with it. */
const RESERVED_NAME_PREFIX = 'twtmp';
const IFNAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const CONSOLE_RE = /^(ttyS|hvc|ttyAMA)[0-9]{1,3}(,[0-9]{1,7}[noe][5-8])?$/;

type Checked<A> = E.Either<GuestCmdlineError, A>;

const checkMac = (subject: string, field: string, mac: unknown): Checked<string> => {
  const expected = 'a unicast MAC written as six colon-separated hex octets, e.g. 52:54:00:12:34:56';
  const m = typeof mac === 'string' ? parseMac(mac) : undefined;
  if (m === undefined) return E.left(invalidGuestValue(subject, field, mac, expected));
  return isUnicastMac(m) ? E.right(m) : E.left(invalidGuestValue(subject, field, mac, `${expected}; this one is multicast or zero`));
};

const checkInt = (subject: string, field: string, v: unknown, min: number, max: number): Checked<number> =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
    ? E.right(v)
    : E.left(invalidGuestValue(subject, field, v, `an integer from ${min} to ${max}`));

const checkNicAddress = (subject: string, field: string, a: unknown): Checked<ParsedCidr> => {
  const c = typeof a === 'string' ? parseCidr(a) : undefined;
  if (c === undefined) {
    return E.left(invalidGuestValue(subject, field, a, 'ADDR/PREFIX with an IPv4 (prefix 0-32) or IPv6 (prefix 0-128) address, e.g. 10.77.0.2/24'));
  }
  const why = nonUnicastReason(c.ip);
  return why === undefined ? E.right(c) : E.left(invalidGuestValue(subject, field, a, `a unicast host address, not ${why}`));
};

interface NormalNic {
  readonly mac: string;
  readonly addresses: readonly { readonly cidr: ParsedCidr; readonly noPrefixRoute: boolean }[];
  readonly mtu: number | undefined;
  readonly name: string | undefined;
  readonly linkLocal: boolean;
}

const NO_PREFIX_ROUTE = '+noprefixroute';

const checkNic = (subject: string, nic: GuestNic): Checked<NormalNic> => {
  const mac = checkMac(subject, 'mac', nic.mac);
  if (E.isLeft(mac)) return mac;
  const addresses: NormalNic['addresses'][number][] = [];
  for (const [i, a] of (nic.addresses ?? []).entries()) {
    const c = checkNicAddress(subject, `addresses[${i}]`, typeof a === 'object' && a !== null ? a.cidr : a);
    if (E.isLeft(c)) return c;
    addresses.push({ cidr: c.right, noPrefixRoute: typeof a === 'object' && a !== null && a.noPrefixRoute === true });
  }
  if (nic.linkLocal !== undefined && typeof nic.linkLocal !== 'boolean') return E.left(invalidGuestValue(subject, 'linkLocal', nic.linkLocal, 'true or false'));
  const hasV6 = addresses.some((a) => a.cidr.ip.family === 6);
  if (nic.mtu !== undefined) {
    // IPv6 needs links of at least 1280 bytes (RFC 8200) and drops the addresses otherwise.
    const mtu = checkInt(subject, 'mtu', nic.mtu, hasV6 ? 1280 : 68, 65535);
    if (E.isLeft(mtu)) {
      return hasV6 && typeof nic.mtu === 'number' && nic.mtu >= 68 && nic.mtu < 1280
        ? E.left(invalidGuestValue(subject, 'mtu', nic.mtu, 'at least 1280 on a NIC with an IPv6 address'))
        : mtu;
    }
  }
  if (nic.name !== undefined) {
    if (typeof nic.name !== 'string' || !IFNAME_RE.test(nic.name) || nic.name.startsWith(RESERVED_NAME_PREFIX)) {
      return E.left(
        invalidGuestValue(subject, 'name', nic.name, `1-15 letters, digits, "_", "." or "-", not starting with "." "-" or "${RESERVED_NAME_PREFIX}"`),
      );
    }
  }
  return E.right({ mac: mac.right, addresses, mtu: nic.mtu, name: nic.name, linkLocal: nic.linkLocal ?? true });
};

const renderNic = (n: NormalNic): string =>
  [
    n.mac,
    ...n.addresses.map((a) => `${a.cidr.text}${a.noPrefixRoute ? NO_PREFIX_ROUTE : ''}`),
    ...(n.mtu === undefined ? [] : [`mtu=${n.mtu}`]),
    ...(n.name === undefined ? [] : [`name=${n.name}`]),
    ...(n.linkLocal ? [] : ['linklocal=off']),
  ].join(',');

const SCOPES: ReadonlySet<string> = new Set(['link', 'host']);
const METRIC_MAX = 4294967295;

/**
 * Addresses are rendered in inet_ntop form: guest/init checks its routing
 * by comparing what it was told with what its `ip route` prints.
 */
/** nicIndex: 1-based position of each NIC's MAC; routes name their NIC by it (16 bytes less a route than a MAC). */
const checkRoute = (subject: string, r: GuestRoute, nicIndex: ReadonlyMap<string, number>): Checked<string> => {
  const dst = typeof r.dst === 'string' ? parseCidr(r.dst) : undefined;
  if (dst === undefined) {
    return E.left(invalidGuestValue(subject, 'dst', r.dst, 'DST/PREFIX, e.g. 10.0.0.0/8; 0.0.0.0/0 or ::/0 for a default route'));
  }
  if (!isNetworkAddress(dst)) {
    return E.left(invalidGuestValue(subject, 'dst', r.dst, `a network address with no bits set after /${dst.prefix}`));
  }
  const items = [`${formatIp(dst.ip)}/${dst.prefix}`];
  let viaLinkLocal = false;
  if (r.via !== undefined) {
    const via = typeof r.via === 'string' ? parseIp(r.via) : undefined;
    if (via === undefined || nonUnicastReason(via) !== undefined) {
      return E.left(invalidGuestValue(subject, 'via', r.via, 'a unicast IPv4 or IPv6 gateway address'));
    }
    if (via.family !== dst.ip.family) {
      return E.left(invalidGuestValue(subject, 'via', r.via, `an IPv${dst.ip.family} gateway, like the destination ${dst.text}`));
    }
    if (r.kernel === true) return E.left(invalidGuestValue(subject, 'via', r.via, 'no gateway on a route the kernel makes'));
    viaLinkLocal = isIpv6LinkLocal(via);
    items.push(`via=${formatIp(via)}`);
  }
  if (r.dev !== undefined) {
    const dev = checkMac(subject, 'dev', r.dev);
    if (E.isLeft(dev)) return dev;
    const index = nicIndex.get(dev.right);
    if (index === undefined) return E.left(invalidGuestValue(subject, 'dev', r.dev, "the MAC of one of the config's NICs"));
    items.push(`dev=${index}`);
  } else if (viaLinkLocal) {
    return E.left(invalidGuestValue(subject, 'dev', 'undefined', 'the MAC of the NIC to reach a link-local (fe80::/10) gateway through'));
  } else if (r.kernel === true) {
    return E.left(invalidGuestValue(subject, 'dev', 'undefined', 'the MAC of the NIC the kernel makes this route on'));
  }
  if (r.via === undefined && r.dev === undefined) {
    return E.left(invalidGuestValue(subject, 'via', 'undefined', 'a gateway (via), a NIC (dev), or both'));
  }
  if (r.src !== undefined) {
    const src = typeof r.src === 'string' ? parseIp(r.src) : undefined;
    if (src === undefined || nonUnicastReason(src) !== undefined || src.family !== dst.ip.family) {
      return E.left(invalidGuestValue(subject, 'src', r.src, `a unicast IPv${dst.ip.family} address, like the destination ${dst.text}`));
    }
    items.push(`src=${formatIp(src)}`);
  }
  if (r.metric !== undefined) {
    const metric = checkInt(subject, 'metric', r.metric, 0, METRIC_MAX);
    if (E.isLeft(metric)) return metric;
    items.push(`metric=${metric.right}`);
  }
  if (r.scope !== undefined) {
    if (typeof r.scope !== 'string' || !SCOPES.has(r.scope)) return E.left(invalidGuestValue(subject, 'scope', r.scope, '"link" or "host" (global is the default)'));
    items.push(`scope=${r.scope}`);
  }
  if (r.onlink !== undefined && typeof r.onlink !== 'boolean') return E.left(invalidGuestValue(subject, 'onlink', r.onlink, 'true or false'));
  if (r.onlink === true) {
    if (r.via === undefined) return E.left(invalidGuestValue(subject, 'onlink', 'true', 'a gateway (via) to treat as on-link'));
    items.push('onlink');
  }
  if (r.kernel !== undefined && typeof r.kernel !== 'boolean') return E.left(invalidGuestValue(subject, 'kernel', r.kernel, 'true or false'));
  if (r.kernel === true) items.push('kernel');
  return E.right(items.join(','));
};

const checkPing = (subject: string, a: unknown): Checked<string> => {
  const ip = typeof a === 'string' ? parseIp(a) : undefined;
  if (ip === undefined) return E.left(invalidGuestValue(subject, 'address', a, 'an IPv4 or IPv6 address without prefix or zone'));
  const why = nonUnicastReason(ip) ?? (isIpv6LinkLocal(ip) ? 'a link-local address (the guest pings without naming an interface)' : undefined);
  return why === undefined ? E.right(ip.text) : E.left(invalidGuestValue(subject, 'address', a, `a unicast address, not ${why}`));
};

/** Checks every value and renders the line for QEMU's -append. */
export const renderGuestCmdline = (config: GuestConfig): Checked<string> => {
  const words = renderGuestWords(config);
  if (E.isLeft(words)) return words;
  const line = words.right.join(' ');
  return line.length > GUEST_CMDLINE_MAX ? E.left({ _tag: 'GuestCmdlineTooLong', length: line.length, max: GUEST_CMDLINE_MAX }) : E.right(line);
};

/**
 * The command line's words, checked, with no length limit: the control
 * channel (control.ts) sends the same tapwire.* values as lines.
 */
export const renderGuestWords = (config: GuestConfig): Checked<string[]> => {
  const words: string[] = [];
  const consoleDev = config.console ?? 'ttyS0';
  if (typeof consoleDev !== 'string' || !CONSOLE_RE.test(consoleDev)) {
    return E.left(invalidGuestValue('guest', 'console', consoleDev, 'a serial console such as ttyS0, ttyS0,115200n8 or hvc0'));
  }
  const panic = checkInt('guest', 'panicSeconds', config.panicSeconds ?? 1, -1, 3600);
  if (E.isLeft(panic)) return panic;
  words.push(`console=${consoleDev}`, `panic=${panic.right}`);
  if (config.quiet ?? true) words.push('quiet');
  if (config.waitSeconds !== undefined) {
    const wait = checkInt('guest', 'waitSeconds', config.waitSeconds, 1, 600);
    if (E.isLeft(wait)) return wait;
    words.push(`tapwire.wait=${wait.right}`);
  }

  const macs = new Map<string, string>();
  const names = new Map<string, string>();
  for (const [i, nic] of config.nics.entries()) {
    const subject = `nic #${i + 1}`;
    const n = checkNic(subject, nic);
    if (E.isLeft(n)) return n;
    const firstMac = macs.get(n.right.mac);
    if (firstMac !== undefined) return E.left({ _tag: 'DuplicateGuestValue', field: 'mac', value: n.right.mac, subjects: [firstMac, subject] });
    macs.set(n.right.mac, subject);
    if (n.right.name !== undefined) {
      const firstName = names.get(n.right.name);
      if (firstName !== undefined) return E.left({ _tag: 'DuplicateGuestValue', field: 'name', value: n.right.name, subjects: [firstName, subject] });
      names.set(n.right.name, subject);
    }
    words.push(`tapwire.nic=${renderNic(n.right)}`);
  }
  const nicIndex = new Map([...macs.keys()].map((mac, i) => [mac, i + 1]));
  for (const [i, r] of (config.routes ?? []).entries()) {
    const route = checkRoute(`route #${i + 1}`, r, nicIndex);
    if (E.isLeft(route)) return route;
    words.push(`tapwire.route=${route.right}`);
  }
  if (config.exactRouting === true) words.push('tapwire.routing=exact');
  for (const [i, a] of (config.ping ?? []).entries()) {
    const p = checkPing(`ping #${i + 1}`, a);
    if (E.isLeft(p)) return p;
    words.push(`tapwire.ping=${p.right}`);
  }
  if (config.stay === true) words.push('tapwire.stay=1');
  if (config.control === true) words.push('tapwire.control=1');
  return E.right(words);
};
