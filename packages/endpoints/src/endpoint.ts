import type { Link } from './model.js';

export const ENDPOINT_KINDS = [
  'physical',
  'vhost-user',
  'macvlan',
  'macvtap',
  'tap',
  'tuntap',
  'veth',
  'ipvlan',
  'vlan',
  'loopback',
  'unsupported',
] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

export interface Pci {
  readonly bdf: string;
  readonly driver: string;
  readonly vendor: string | undefined;
  readonly device: string | undefined;
  readonly boundDriver: string | undefined;
}

interface Common {
  readonly link: Link;
  /** Why this kind: a sentence for humans. */
  readonly reason: string;
  /** Why the link is not attachable; undefined when it is. */
  readonly skipped: string | undefined;
}

/** A classified link. `kind` decides which extra field is present. */
export type Endpoint =
  | (Common & { readonly kind: 'physical'; readonly pci: Pci })
  | (Common & { readonly kind: 'vhost-user'; readonly socket: string })
  | (Common & {
      readonly kind: 'tuntap' | 'tap';
      readonly multiQueue: boolean;
      readonly vnetHdr: boolean;
      /** uid/gid allowed to attach queues (undefined: not restricted by it; both unset: anyone who can open /dev/net/tun). */
      readonly owner: number | undefined;
      readonly group: number | undefined;
    })
  | (Common & { readonly kind: 'macvlan' | 'macvtap' | 'veth' | 'ipvlan' | 'vlan' | 'loopback' })
  | (Common & { readonly kind: 'unsupported'; readonly linkKind: string });

export const isAttachable = (e: Endpoint): boolean => e.skipped === undefined;
