// QEMU splits option strings (-netdev, -device, -chardev, -object) at single
// commas; a literal comma inside a value is written twice. Only values we do
// not control (paths) need it: ids, MACs and numbers are validated to hold none.

export const escapeOptValue = (value: string): string => value.replaceAll(',', ',,');

/** `type,key=value,...` with every value escaped; the type is one of ours. */
export const optString = (type: string, pairs: readonly (readonly [string, string])[]): string =>
  [type, ...pairs.map(([k, v]) => `${k}=${escapeOptValue(v)}`)].join(',');
