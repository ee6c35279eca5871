// One resource's DevicePlugin service on its own unix socket.
import { existsSync, unlinkSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as E from 'fp-ts/lib/Either.js';
import { AllocateRequest, decodeRequest, PreStartContainerRequest, unixTarget, v1beta1 } from './api.js';
import { describeDevicePluginError, type DevicePluginError } from './errors.js';
import type { ResourceState } from './resource.js';

const statusOf = (e: DevicePluginError): grpc.ServiceError =>
  Object.assign(new Error(describeDevicePluginError(e)), {
    code: e._tag === 'DecodeFailed' || e._tag === 'UnknownDevice' ? grpc.status.INVALID_ARGUMENT : e._tag === 'LowerDeviceMissing' ? grpc.status.FAILED_PRECONDITION : grpc.status.INTERNAL,
    details: describeDevicePluginError(e),
    metadata: new grpc.Metadata(),
  });

const handlers = (state: ResourceState, log: (line: string) => void): grpc.UntypedServiceImplementation => ({
  GetDevicePluginOptions: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
    cb(null, { pre_start_required: false, get_preferred_allocation_available: false }),
  ListAndWatch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
    call.write({ devices: state.devices() });
    const stop = state.watch((devices) => {
      log(`${state.resource.resourceName}: devices now ${devices[0]?.health ?? 'none'}`);
      call.write({ devices });
    });
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('error', stop);
  },
  GetPreferredAllocation: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { container_responses: [] }),
  Allocate: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    const req = decodeRequest('AllocateRequest', AllocateRequest, call.request);
    if (E.isLeft(req)) return cb(statusOf(req.left));
    void state.allocate(req.right.container_requests.map((c) => c.devices_ids)).then((r) => {
      if (E.isLeft(r)) {
        log(`${state.resource.resourceName}: Allocate failed: ${describeDevicePluginError(r.left)}`);
        return cb(statusOf(r.left));
      }
      log(`${state.resource.resourceName}: allocated ${req.right.container_requests.flatMap((c) => c.devices_ids).join(', ')}`);
      return cb(null, { container_responses: r.right });
    });
  },
  // Not asked for (pre_start_required false): a macvtap needs nothing before start.
  PreStartContainer: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    const req = decodeRequest('PreStartContainerRequest', PreStartContainerRequest, call.request);
    return E.isLeft(req) ? cb(statusOf(req.left)) : cb(null, {});
  },
});

export interface Served {
  readonly socket: string;
  /** Ends open ListAndWatch streams, closes the socket and removes its file. */
  readonly close: () => void;
}

export const serve = (state: ResourceState, socket: string, log: (line: string) => void): Promise<E.Either<DevicePluginError, Served>> => {
  // A socket file left by an earlier run (or an old kubelet generation) would make bind fail.
  if (existsSync(socket)) unlinkSync(socket);
  const server = new grpc.Server();
  server.addService(v1beta1().DevicePlugin.service, handlers(state, log));
  return new Promise((resolve) => {
    server.bindAsync(unixTarget(socket), grpc.ServerCredentials.createInsecure(), (err) => {
      if (err !== null) {
        server.forceShutdown();
        return resolve(E.left({ _tag: 'ServeFailed', socket, detail: err.message }));
      }
      resolve(
        E.right({
          socket,
          close: () => {
            server.forceShutdown();
            try {
              unlinkSync(socket);
            } catch {
              // Already removed (kubelet clears the directory when it restarts).
            }
          },
        }),
      );
    });
  });
};
