// Register(RegisterRequest) against kubelet's Registration service.
import * as grpc from '@grpc/grpc-js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { API_VERSION, unixTarget, v1beta1 } from './api.js';
import type { DevicePluginError } from './errors.js';

export const register = (kubeletSocket: string, endpoint: string, resourceName: string, timeoutMs = 5000): TE.TaskEither<DevicePluginError, void> => () =>
  new Promise((resolve) => {
    const { Registration } = v1beta1();
    const client = new Registration(unixTarget(kubeletSocket), grpc.credentials.createInsecure());
    const req = { version: API_VERSION, endpoint, resource_name: resourceName, options: { pre_start_required: false, get_preferred_allocation_available: false } };
    (client as unknown as { Register: (r: unknown, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => void }).Register(
      req,
      { deadline: Date.now() + timeoutMs },
      (err) => {
        client.close();
        resolve(err === null ? { _tag: 'Right', right: undefined } : { _tag: 'Left', left: { _tag: 'RegistrationFailed', kubeletSocket, resourceName, detail: err.details || err.message } });
      },
    );
  });
