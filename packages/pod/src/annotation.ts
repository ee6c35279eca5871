// The pod annotation k8s.v1.cni.cncf.io/networks, in both forms the NPWG spec
// (v1.x, 4.1.2.1) and Multus take: "a, ns/b@net5" or a JSON list of network
// selection elements. Decoded once; a bad element is named by its position.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { problemsOf, type PodError } from './errors.js';

export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';

export interface NetworkSelection {
  readonly name: string;
  /** The pod's namespace when the annotation names none. */
  readonly namespace: string;
  readonly interface?: string;
  readonly mac?: string;
  readonly ips?: readonly string[];
  readonly defaultRoute?: readonly string[];
  /** "cni-args": Multus merges them into the delegate config's args.cni. */
  readonly cniArgs?: Readonly<Record<string, unknown>>;
}

// DNS-1123 label (namespaces) and subdomain (object names), as the API server checks them.
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const isNamespace = (s: string): boolean => LABEL.test(s);
export const isObjectName = (s: string): boolean => SUBDOMAIN.test(s);
/** A unicast MAC (the I/G bit of the first octet clear), as Multus's net.ParseMAC plus the plugins demand. */
export const isUnicastMac = (s: string): boolean => /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s) && (parseInt(s.slice(0, 2), 16) & 1) === 0;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const isIp = (s: string): boolean => IPV4.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
/** "ips" are CIDRs (Multus: "10.1.1.101/24"); a bare address is taken too, as Multus's check does. */
export const isIpOrCidr = (s: string): boolean => {
  const [ip, len, ...rest] = s.split('/');
  if (rest.length > 0 || ip === undefined || !isIp(ip)) return false;
  return len === undefined || (/^\d{1,3}$/.test(len) && Number(len) <= (ip.includes(':') ? 128 : 32));
};

const Element = t.intersection([
  t.type({ name: t.string }),
  t.partial({
    namespace: t.string,
    interface: t.string,
    mac: t.string,
    ips: t.array(t.string),
    'default-route': t.array(t.string),
    'cni-args': t.UnknownRecord,
  }),
]);
const Elements = t.array(Element, 'a list of network selection elements');

const checkElement = (e: t.TypeOf<typeof Element>, podNamespace: string, at: string): E.Either<string[], NetworkSelection> => {
  const problems: string[] = [];
  const namespace = e.namespace ?? podNamespace;
  if (!isObjectName(e.name)) problems.push(`${at}: name ${JSON.stringify(e.name)} is not a DNS-1123 subdomain`);
  if (!isNamespace(namespace)) problems.push(`${at}: namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`);
  if (e.mac !== undefined && !isUnicastMac(e.mac)) problems.push(`${at}: mac ${JSON.stringify(e.mac)} is not a unicast MAC (xx:xx:xx:xx:xx:xx)`);
  for (const ip of e.ips ?? []) if (!isIpOrCidr(ip)) problems.push(`${at}: ips entry ${JSON.stringify(ip)} is not an IP address or CIDR`);
  for (const gw of e['default-route'] ?? []) if (!isIp(gw)) problems.push(`${at}: default-route entry ${JSON.stringify(gw)} is not an IP address`);
  if (problems.length > 0) return E.left(problems);
  return E.right({
    name: e.name,
    namespace,
    ...(e.interface === undefined ? {} : { interface: e.interface }),
    ...(e.mac === undefined ? {} : { mac: e.mac }),
    ...(e.ips === undefined ? {} : { ips: e.ips }),
    ...(e['default-route'] === undefined ? {} : { defaultRoute: e['default-route'] }),
    ...(e['cni-args'] === undefined ? {} : { cniArgs: e['cni-args'] }),
  });
};

/** "[ns/]name[@ifname]" -> a selection element, as Multus's parsePodNetworkObjectName. */
const shortElement = (part: string, at: string): E.Either<string[], t.TypeOf<typeof Element>> => {
  const slashes = part.split('/').length - 1;
  const ats = part.split('@').length - 1;
  if (slashes > 1 || ats > 1) return E.left([`${at}: ${JSON.stringify(part)} has more than one '/' or '@' (expected [namespace/]name[@interface])`]);
  const [nsAndName = '', ifname] = part.split('@');
  const [first = '', second] = nsAndName.split('/');
  const name = second ?? first;
  if (ats === 1 && (ifname ?? '') === '') return E.left([`${at}: ${JSON.stringify(part)} has an empty interface after '@'`]);
  return E.right({ name, ...(second === undefined ? {} : { namespace: first }), ...(ifname === undefined ? {} : { interface: ifname }) });
};

const collect = <A>(items: readonly E.Either<string[], A>[]): E.Either<string[], A[]> => {
  const problems = items.flatMap((i) => (E.isLeft(i) ? i.left : []));
  return problems.length > 0 ? E.left(problems) : E.right(items.map((i) => (i as E.Right<A>).right));
};

/** Parses the annotation's text (empty = no secondary networks) for a pod in podNamespace. */
export const parseNetworksAnnotation = (input: string, podNamespace: string): E.Either<PodError, readonly NetworkSelection[]> => {
  const bad = (problems: readonly string[]): E.Either<PodError, never> => E.left({ _tag: 'BadAnnotation', input, problems });
  const text = input.trim();
  if (text === '') return E.right([]);
  let elements: E.Either<string[], t.TypeOf<typeof Element>[]>;
  if (text.startsWith('[') || text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return bad([`not JSON: ${(e as Error).message}`]);
    }
    const decoded = Elements.decode(json);
    if (E.isLeft(decoded)) return bad(problemsOf(decoded.left));
    elements = E.right(decoded.right);
  } else {
    elements = collect(text.split(',').map((p, i) => shortElement(p.trim(), `element ${i + 1}`)));
  }
  if (E.isLeft(elements)) return bad(elements.left);
  const checked = collect(elements.right.map((e, i) => checkElement(e, podNamespace, `element ${i + 1}`)));
  return E.isLeft(checked) ? bad(checked.left) : E.right(checked.right);
};
