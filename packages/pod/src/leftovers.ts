// Devices allocated to a pod whose CNI never took them (pod up killed between
// Allocate and the macvtap ADD): the macvtap is still in the node netns under
// its device ID. Down deletes those (macvtaps only, by name, in one ip -batch);
// this pod's state still holds the IDs, so no other pod was given them.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { resolveNetns, run, runBatch } from '@tapwire/sys';
import type { PodError } from './errors.js';
import type { PodState } from './state.js';

const Links = t.array(t.intersection([t.type({ ifname: t.string }), t.partial({ linkinfo: t.partial({ info_kind: t.string }) })]));

export const releaseLeftoverDevices = async (s: PodState): Promise<E.Either<PodError, readonly string[]>> => {
  const ids = s.networks.flatMap((n) => (n.deviceId === undefined ? [] : [n.deviceId]));
  if (ids.length === 0) return E.right([]);
  const node = resolveNetns(s.nodeNetns ?? `/proc/${process.pid}/ns/net`);
  if (E.isLeft(node)) return E.left({ _tag: 'Sys', what: 'opening the node netns', cause: node.left });
  const shown = await run(['ip', '-j', '-d', 'link', 'show'], { netns: node.right })();
  if (E.isLeft(shown)) return E.left({ _tag: 'Sys', what: 'listing the node netns links', cause: shown.left });
  let links: unknown;
  try {
    links = JSON.parse(shown.right.stdout);
  } catch {
    links = undefined;
  }
  const decoded = Links.decode(links);
  if (E.isLeft(decoded)) return E.left({ _tag: 'BadState', file: 'ip -j -d link show', problems: ['not the JSON ip prints'] });
  const left = decoded.right.filter((l) => ids.includes(l.ifname) && l.linkinfo?.info_kind === 'macvtap').map((l) => l.ifname);
  const del = await runBatch(node.right, 'ip', left.map((id) => ['link', 'del', 'dev', id]))();
  return E.isLeft(del) ? E.left({ _tag: 'Sys', what: `deleting leftover devices ${left.join(', ')}`, cause: del.left }) : E.right(left);
};
