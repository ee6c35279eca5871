// CNI spec versions this package speaks. Results of 0.3.x/0.4.0 carry an
// `ips[].version` field that 1.0.0 removed; 1.1.0 only adds optional fields
// (interface mtu/socketPath/pciID, route mtu/advmss/priority/table/scope) and
// the STATUS and GC verbs. CHECK exists from 0.4.0 on.
export const SUPPORTED_VERSIONS = ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';

export const isSupportedVersion = (v: string): v is CniVersion => (SUPPORTED_VERSIONS as readonly string[]).includes(v);

const parts = (v: string): number[] => v.split('.').map((p) => Number(p));

/** Semantic comparison of two x.y.z versions: negative, 0 or positive. */
export const compareVersions = (a: string, b: string): number => {
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

export const atLeast = (v: string, min: string): boolean => compareVersions(v, min) >= 0;

/** 0.3.x and 0.4.0 results tag every IP with its family ("4" or "6"). */
export const ipsCarryVersion = (v: string): boolean => !atLeast(v, '1.0.0');
