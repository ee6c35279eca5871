// Fixtures for netmodel's privileged tests: endpoints made with real ip
// commands inside a throwaway netns (makeNetns deletes it on teardown).
import type { ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan, type ClassifyOptions, type Endpoint } from '@tapwire/endpoints';
import { describeSysError, resolveNetns, type NetnsHandle } from '@tapwire/sys';
import { makeNetns, sh } from '@tapwire/testkit';
import { netnsState } from './state.js';

export type EndpointSetup = 'veth' | 'macvlan' | 'tap';
export const SETUPS: readonly EndpointSetup[] = ['veth', 'macvlan', 'tap'];

/** ip -batch inside a named netns (test setup only, so plain argv lines). */
export const ipIn = (netns: string, lines: readonly string[]) => sh(['ip', '-n', netns, '-batch', '-'], `${lines.join('\n')}\n`);

/**
 * One attachable endpoint named `name` of the given setup, with an IPv4
 * address, a default route through it, and the peer/parent it needs.
 */
export const makeEndpoint = async (netns: string, setup: EndpointSetup, name = 'ep0'): Promise<void> => void (await ipIn(netns, endpointLines(setup, name, 0)));

/**
 * The ip -batch lines making endpoint number i (peer<i>, parent<i>,
 * 10.77.<i>.2/24; only endpoint 0 gets the default route).
 */
export const endpointLines = (setup: EndpointSetup, name: string, i: number): string[] => {
  const common = [
    `addr add 10.77.${i}.2/24 dev ${name}`,
    `link set dev ${name} up`,
    ...(i === 0 ? [`route add default via 10.77.0.1 dev ${name}`, `route add 10.99.0.0/16 via 10.77.0.3 dev ${name} metric 50`] : [`route add 10.${99 + i}.0.0/16 via 10.77.${i}.3 dev ${name} metric 50`]),
  ];
  switch (setup) {
    case 'veth':
      return [`link add ${name} type veth peer name peer${i}`, `link set dev peer${i} up`, ...common];
    case 'macvlan':
      return [`link add parent${i} type veth peer name peer${i}`, `link set dev parent${i} up`, `link set dev peer${i} up`, `link add link parent${i} name ${name} type macvlan mode bridge`, ...common];
    case 'tap':
      return [`tuntap add dev ${name} mode tap`, ...common];
  }
};

/** Endpoints ep0..ep<n-1> of the given setups (cycled), in one ip process. */
export const makeEndpoints = async (netns: string, setups: readonly EndpointSetup[], n = setups.length): Promise<string[]> => {
  const names = Array.from({ length: n }, (_, i) => `ep${i}`);
  await ipIn(netns, names.flatMap((name, i) => endpointLines(setups[i % setups.length] ?? 'veth', name, i)));
  return names;
};

export interface Fixture {
  readonly name: string;
  readonly ns: NetnsHandle;
}

export const netnsFixture = async (t: ExecutionContext): Promise<Fixture> => {
  const { name } = await makeNetns(t, 'twn');
  // No IPv6 duplicate address detection: addresses (and their local routes)
  // settle at once, so a snapshot does not race DAD finishing.
  await sh(['ip', 'netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  // The product's own resolution, so tests see the handle a CLI user gets.
  const ns = resolveNetns(name);
  if (E.isLeft(ns)) throw new Error(`resolveNetns(${name}): ${describeSysError(ns.left)}`);
  return { name, ns: ns.right };
};

export const endpointsOf = async (ns: NetnsHandle, opts: ClassifyOptions = {}): Promise<readonly Endpoint[]> => {
  const s = await scan(ns)();
  if (E.isLeft(s)) throw new Error(`scan: ${JSON.stringify(s.left)}`);
  return classify(s.right, opts);
};

export const endpointOf = async (ns: NetnsHandle, name: string, opts: ClassifyOptions = {}): Promise<Endpoint> => {
  const e = (await endpointsOf(ns, opts)).find((x) => x.link.name === name);
  if (e === undefined) throw new Error(`no endpoint ${name}`);
  return e;
};

export const stateOf = async (ns: NetnsHandle): Promise<unknown> => {
  const s = await netnsState(ns)();
  if (E.isLeft(s)) throw new Error(`netnsState: ${JSON.stringify(s.left)}`);
  return s.right;
};

export const right = <A>(t: ExecutionContext, r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) {
    t.fail(`expected Right, got ${JSON.stringify(r.left)}`);
    throw new Error('Left');
  }
  return r.right;
};
