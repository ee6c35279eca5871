// CNI errors: what the plugin prints on stdout ({cniVersion, code, msg,
// details}) before exiting non-zero. Codes 1-99 are the spec's; 100+ are ours.
export const CODES = {
  /** Incompatible CNI version. */
  incompatibleVersion: 1,
  /** Unsupported field in the network configuration. */
  unsupportedField: 2,
  /** Container unknown or does not exist (the runtime need not call DEL). */
  unknownContainer: 3,
  /** Invalid necessary environment variables (CNI_COMMAND, CNI_IFNAME...). */
  invalidEnv: 4,
  /** I/O failure (reading stdin). */
  ioFailure: 5,
  /** Failed to decode content (stdin is not JSON, a prevResult that is not a result). */
  decodeFailure: 6,
  /** Invalid network configuration. */
  invalidConfig: 7,
  /** Try again later: a transient condition. */
  tryAgain: 11,
  /** STATUS: the plugin cannot serve ADDs now. */
  notAvailable: 50,
  // ---- ours ----
  /** Unexpected failure inside the plugin. */
  internal: 100,
  /** An ip/tc command inside the netns failed (the message says which). */
  netnsCommand: 101,
  /** A link the config or env names does not exist (CNI_IFNAME for tc-redirect-tap, deviceID, bridge, lowerDevice). */
  linkNotFound: 102,
  /** The IPAM plugin could not be found on CNI_PATH or did not answer with a result. */
  ipamFailed: 103,
  /** CHECK: the netns does not hold what ADD made. */
  checkFailed: 104,
  /** CNI_IFNAME (or the tap name) already exists in the netns. */
  nameTaken: 105,
} as const;

export interface CniError {
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

export const cniError = (code: number, msg: string, details?: string): CniError =>
  details === undefined || details === '' ? { code, msg } : { code, msg, details };

/** A CNI error for people (the CLI, logs): the spec's code, its msg, its details. */
export const describeCniError = (e: CniError): string => `CNI error ${e.code}: ${e.msg}${e.details === undefined ? '' : ` (${e.details})`}`;

/** The JSON the spec wants on stdout; cniVersion is the config's when it was read. */
export const encodeError = (e: CniError, cniVersion: string): string =>
  JSON.stringify({ cniVersion, code: e.code, msg: e.msg, ...(e.details === undefined ? {} : { details: e.details }) });
