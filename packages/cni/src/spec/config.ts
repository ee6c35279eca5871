// The network configuration on stdin: JSON, a supported cniVersion, the
// spec's common fields, then the plugin's own fields (io-ts), and a prevResult
// that is a valid result when present.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { reportDecodeErrors } from '@tapwire/endpoints';
import { stringWhere } from './codecs.js';
import { CODES, cniError, type CniError } from './errors.js';
import { decodeResult, Dns, type Result } from './result.js';
import { isSupportedVersion, SUPPORTED_VERSIONS, type CniVersion } from './version.js';

const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const NetConf = t.intersection([
  t.type({
    cniVersion: t.string,
    name: stringWhere('a network name (alphanumeric first, then alphanumerics, _, . or -)', (s) => NETWORK_NAME.test(s)),
    type: t.string,
  }),
  t.partial({
    ipam: t.partial({ type: t.string }),
    dns: Dns,
    runtimeConfig: t.UnknownRecord,
    args: t.UnknownRecord,
    prevResult: t.unknown,
    'cni.dev/valid-attachments': t.array(t.type({ containerID: t.string, ifname: t.string })),
  }),
], 'network config');
export type NetConf = t.TypeOf<typeof NetConf>;

export interface Decoded<C> {
  readonly conf: C;
  readonly version: CniVersion;
  readonly prevResult: Result | undefined;
}

/** Error and the version to stamp on it (the config's, once known). */
export interface ConfigError {
  readonly error: CniError;
  readonly version: string | undefined;
}

export const decodeConfig = <C extends NetConf>(stdin: string, codec: t.Type<C, unknown, unknown>): E.Either<ConfigError, Decoded<C>> => {
  let json: unknown;
  try {
    json = JSON.parse(stdin);
  } catch (e) {
    return E.left({ error: cniError(CODES.decodeFailure, 'the network configuration on stdin is not JSON', (e as Error).message), version: undefined });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return E.left({ error: cniError(CODES.decodeFailure, 'the network configuration on stdin is not a JSON object'), version: undefined });
  }
  const v = (json as Record<string, unknown>)['cniVersion'];
  if (typeof v !== 'string' || v === '') {
    return E.left({ error: cniError(CODES.invalidConfig, 'the network configuration has no cniVersion', `expected one of ${SUPPORTED_VERSIONS.join(', ')}`), version: undefined });
  }
  if (!isSupportedVersion(v)) {
    return E.left({ error: cniError(CODES.incompatibleVersion, 'incompatible CNI versions', `config is ${JSON.stringify(v)}, plugin supports ${SUPPORTED_VERSIONS.join(', ')}`), version: v });
  }
  const r = codec.decode(json);
  if (E.isLeft(r)) {
    return E.left({ error: cniError(CODES.invalidConfig, 'invalid network configuration', reportDecodeErrors('config', r.left).slice(0, 4).join('; ')), version: v });
  }
  const raw = (json as Record<string, unknown>)['prevResult'];
  if (raw === undefined) return E.right({ conf: r.right, version: v, prevResult: undefined });
  const prev = decodeResult('prevResult', raw);
  if (E.isLeft(prev)) return E.left({ error: cniError(CODES.decodeFailure, 'prevResult is not a CNI result', prev.left), version: v });
  return E.right({ conf: r.right, version: v, prevResult: prev.right });
};
