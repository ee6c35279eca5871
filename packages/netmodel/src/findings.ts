// Drift between an attachment's record and the netns, as typed findings.
export type Finding =
  | { readonly _tag: 'LinkMissing'; readonly link: string; readonly message: string }
  | { readonly _tag: 'DeviceMissing'; readonly device: string; readonly message: string }
  | { readonly _tag: 'DeviceDown'; readonly device: string; readonly message: string }
  | { readonly _tag: 'WrongLower'; readonly device: string; readonly expected: string; readonly found: string; readonly message: string }
  | { readonly _tag: 'QdiscMissing'; readonly device: string; readonly message: string }
  | { readonly _tag: 'FilterMissing'; readonly from: string; readonly to: string; readonly message: string }
  | { readonly _tag: 'MacChanged'; readonly device: string; readonly expected: string; readonly found: string; readonly message: string }
  | { readonly _tag: 'MtuMismatch'; readonly device: string; readonly expected: number; readonly found: number; readonly message: string }
  /** A device tapwire created whose record was never written (half-made.ts). */
  | { readonly _tag: 'RecordMissing'; readonly device: string; readonly message: string }
  | { readonly _tag: 'AddressesOnLink'; readonly link: string; readonly addresses: readonly string[]; readonly message: string };
