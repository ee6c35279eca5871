// What the plugin needs from `ip -j -d link show`: names, index, operstate,
// kind, lower link, and whether a bus device backs the link (physical).
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { deviceNameProblem, toResource, type MacvtapResource } from './config.js';
import { decodeProblems } from './decode.js';
import type { DevicePluginError } from './errors.js';

const LinkJson = t.intersection([
  t.type({ ifindex: t.number, ifname: t.string, operstate: t.string }),
  t.partial({
    /** The lower link of a macvtap/vlan/veth (absent or "NONE" when in another netns). */
    link: t.string,
    linkinfo: t.partial({ info_kind: t.string }),
    /** Set by iproute2 -d when a bus device (pci, virtio, usb) backs the link. */
    parentbus: t.string,
  }),
], 'link');

export interface LinkState {
  readonly ifindex: number;
  readonly name: string;
  /** UP, DOWN, LOWERLAYERDOWN, UNKNOWN, ... as the kernel reports it. */
  readonly operstate: string;
  readonly kind: string | undefined;
  readonly lower: string | undefined;
  readonly physical: boolean;
}

export const decodeLinks = (stdout: string): E.Either<DevicePluginError, readonly LinkState[]> => {
  let json: unknown;
  try {
    json = JSON.parse(stdout.trim() === '' ? '[]' : stdout);
  } catch (e) {
    return E.left({ _tag: 'DecodeFailed', what: "ip -j link's output", problems: [(e as Error).message] });
  }
  const r = t.array(LinkJson).decode(json);
  if (E.isLeft(r)) return E.left({ _tag: 'DecodeFailed', what: "ip -j link's output", problems: decodeProblems('links', r.left) });
  return E.right(
    r.right.map((l) => ({
      ifindex: l.ifindex,
      name: l.ifname,
      operstate: l.operstate,
      kind: l.linkinfo?.info_kind,
      lower: l.link,
      physical: l.parentbus !== undefined,
    })),
  );
};

/**
 * The `[]` configuration: one bridge-mode resource of capacity 100 per
 * physical link or bond, named after it (as upstream's lister). A link whose
 * name is too long for device names (name + "Mvp99" > 15 bytes) is left out
 * and said why, rather than failing the whole plugin.
 */
export const discoverResources = (links: readonly LinkState[]): { readonly resources: readonly MacvtapResource[]; readonly skipped: readonly string[] } => {
  const candidates = links.filter((l) => l.physical || l.kind === 'bond').map((l) => toResource(l.name, l.name));
  return {
    resources: candidates.filter((r) => deviceNameProblem(r) === undefined),
    skipped: candidates.map(deviceNameProblem).filter((p): p is string => p !== undefined),
  };
};
