// The v1beta1 API loaded from proto/api.proto (kept next to src and dist, so
// both find it at ../proto). Field names stay as in the proto (keepCase), so
// the objects below read like the .proto file. Incoming requests are external
// input: decoded with io-ts like everything else.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeProblems } from './decode.js';
import type { DevicePluginError } from './errors.js';

export const API_VERSION = 'v1beta1';
export const KUBELET_SOCKET = 'kubelet.sock';
export const PROTO_PATH = fileURLToPath(new URL('../proto/api.proto', import.meta.url));

interface V1beta1 {
  readonly Registration: grpc.ServiceClientConstructor;
  readonly DevicePlugin: grpc.ServiceClientConstructor;
}

let loaded: V1beta1 | undefined;
/** Loaded once, on first use (reading the .proto is synchronous). */
export const v1beta1 = (): V1beta1 => {
  if (loaded !== undefined) return loaded;
  const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def)['v1beta1'] as unknown as V1beta1;
  loaded = pkg;
  return pkg;
};

/** unix:// target for grpc-js (absolute path: unix:///abs). */
export const unixTarget = (path: string): string => `unix://${path}`;

export const RegisterRequest = t.type({
  version: t.string,
  endpoint: t.string,
  resource_name: t.string,
  options: t.union([t.null, t.undefined, t.partial({ pre_start_required: t.boolean, get_preferred_allocation_available: t.boolean })]),
});
export type RegisterRequest = t.TypeOf<typeof RegisterRequest>;

export const AllocateRequest = t.type({ container_requests: t.array(t.type({ devices_ids: t.array(t.string) })) });
export const PreStartContainerRequest = t.type({ devices_ids: t.array(t.string) });

export const decodeRequest = <A>(what: string, codec: t.Decoder<unknown, A>, u: unknown): E.Either<DevicePluginError, A> =>
  E.mapLeft((errs: t.Errors): DevicePluginError => ({ _tag: 'DecodeFailed', what, problems: decodeProblems(what, errs) }))(codec.decode(u));
