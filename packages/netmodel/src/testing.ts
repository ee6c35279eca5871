// Fixtures for netmodel's privileged tests: endpoints made with real ip
// commands inside a throwaway netns (makeNetns deletes it on teardown).
import { statSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { classify, scan, type ClassifyOptions, type Endpoint } from '@tapwire/endpoints';
import type { NetnsHandle } from '@tapwire/sys';
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
export const makeEndpoint = async (netns: string, setup: EndpointSetup, name = 'ep0'): Promise<void> => {
  const common = [`addr add 10.77.0.2/24 dev ${name}`, `link set dev ${name} up`, `route add default via 10.77.0.1 dev ${name}`, `route add 10.99.0.0/16 via 10.77.0.3 dev ${name} metric 50`];
  switch (setup) {
    case 'veth':
      return void (await ipIn(netns, [`link add ${name} type veth peer name peer0`, 'link set dev peer0 up', ...common]));
    case 'macvlan':
      return void (await ipIn(netns, ['link add parent0 type veth peer name peer0', 'link set dev parent0 up', 'link set dev peer0 up', `link add link parent0 name ${name} type macvlan mode bridge`, ...common]));
    case 'tap':
      return void (await ipIn(netns, [`tuntap add dev ${name} mode tap`, ...common]));
  }
};

export interface Fixture {
  readonly name: string;
  readonly ns: NetnsHandle;
}

export const netnsFixture = async (t: ExecutionContext): Promise<Fixture> => {
  const { name, path } = await makeNetns(t, 'twn');
  // Built from stat, not resolveNetns: on this kernel readlink of an fd on a
  // /run/netns bind mount prints the path, not net:[ino], so resolveNetns
  // refuses every named netns (a sys bug, reported).
  // No IPv6 duplicate address detection: addresses (and their local routes)
  // settle at once, so a snapshot does not race DAD finishing.
  await sh(['ip', 'netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  return { name, ns: { spec: name, path, inode: statSync(path).ino } };
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
