// What detach needs to restore, kept in the alias of the device tapwire made
// (so it lives and dies with the device, and a fresh process can read it):
//   tapwire:1,<model>,<link ifindex>,<queues>,<link mac>[,<addresses>,<routes>[,<txqlen>]]
// addresses and routes (model macvtap) are ';'-separated lists of the argv
// words that re-create each one, joined by '+'. txqlen (model tcfilter) is the
// link's txqueuelen when an ingress qdisc changes it (0: the kernel raises it
// to 1000), so detach can put it back; records without it still decode. Every word is restricted to
// characters that need no quoting in a -batch line and cannot contain ',;+'.
import * as E from 'fp-ts/lib/Either.js';
import { TAPWIRE_ALIAS_PREFIX } from '@tapwire/endpoints';
import type { Argv } from './model.js';

export interface AttachRecord {
  readonly model: 'tcfilter' | 'macvtap';
  readonly ifindex: number;
  readonly queues: number;
  /** The endpoint's MAC when attached: the guest's MAC, and what detach puts back. */
  readonly mac: string;
  /** `ip addr add` words (without `dev L`), in the order the link had them. */
  readonly addresses: readonly Argv[];
  /** `ip route replace` words (without `dev L`). */
  readonly routes: readonly Argv[];
  /** The link's txqueuelen to restore on detach, when attach's ingress qdisc changes it. */
  readonly txqlen?: number;
}

const VERSION = '1';
export const RECORD_WORD = /^[A-Za-z0-9._:/-]+$/;
/** An Ethernet MAC as ip prints it. */
export const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

const list = (items: readonly Argv[]): string => items.map((ws) => ws.join('+')).join(';');
const unlist = (text: string): Argv[] => (text === '' ? [] : text.split(';').map((w) => w.split('+')));

export const encodeRecord = (r: AttachRecord): string => {
  const head = `${TAPWIRE_ALIAS_PREFIX}${VERSION},${r.model},${r.ifindex},${r.queues},${r.mac}`;
  if (r.model === 'macvtap') return `${head},${list(r.addresses)},${list(r.routes)}`;
  return r.txqlen === undefined ? head : `${head},,,${r.txqlen}`;
};

export const isTapwireAlias = (alias: string | undefined): alias is string => alias?.startsWith(TAPWIRE_ALIAS_PREFIX) === true;

export const decodeRecord = (alias: string): E.Either<string, AttachRecord> => {
  if (!isTapwireAlias(alias)) return E.left('not a tapwire alias');
  const [version, model, ifindex, queues, mac, addrs = '', routes = '', txqlen] = alias.slice(TAPWIRE_ALIAS_PREFIX.length).split(',');
  if (version !== VERSION) return E.left(`unknown record version ${JSON.stringify(version)}`);
  if (model !== 'tcfilter' && model !== 'macvtap') return E.left(`unknown model ${JSON.stringify(model)}`);
  if (!/^[1-9][0-9]*$/.test(ifindex ?? '') || !/^[1-9][0-9]*$/.test(queues ?? '')) return E.left('bad ifindex or queues');
  if (mac === undefined || !MAC.test(mac)) return E.left(`bad mac ${JSON.stringify(mac)}`);
  if (txqlen !== undefined && !/^(0|[1-9][0-9]{0,9})$/.test(txqlen)) return E.left(`bad txqlen ${JSON.stringify(txqlen)}`);
  const base: AttachRecord = { model, ifindex: Number(ifindex), queues: Number(queues), mac, addresses: unlist(addrs), routes: unlist(routes) };
  return E.right(txqlen === undefined ? base : { ...base, txqlen: Number(txqlen) });
};
