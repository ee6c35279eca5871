// Test support (not exported from the package): a kubelet stand-in written
// from the same api.proto. It serves Registration on <dir>/kubelet.sock; on
// every Register it dials the plugin's endpoint and keeps a ListAndWatch
// stream open, recording each list; it calls Allocate like kubelet's device
// manager; restart() does what a kubelet restart does to the directory.
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as E from 'fp-ts/lib/Either.js';
import { KUBELET_SOCKET, RegisterRequest, unixTarget, v1beta1 } from '../api.js';
import type { Device } from '../devices.js';

type Unary = (req: unknown, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, res: unknown) => void) => void;
interface PluginClient extends grpc.Client {
  readonly Allocate: Unary;
  readonly GetDevicePluginOptions: Unary;
  readonly PreStartContainer: Unary;
  readonly ListAndWatch: (req: unknown) => grpc.ClientReadableStream<{ devices: Device[] }>;
}

export interface Registered {
  readonly request: RegisterRequest;
  readonly client: PluginClient;
  /** Every list ListAndWatch sent, oldest first, with when it arrived. */
  readonly lists: { readonly at: number; readonly devices: readonly Device[] }[];
}

export interface KubeletStandIn {
  readonly socket: string;
  readonly registrations: Registered[];
  /** The newest registration of a resource. */
  readonly latest: (resourceName: string) => Registered | undefined;
  readonly call: (resourceName: string, method: 'Allocate' | 'GetDevicePluginOptions' | 'PreStartContainer', req: unknown) => Promise<E.Either<grpc.ServiceError, any>>;
  /** Stops, removes every socket in the directory (as kubelet does), starts anew. */
  readonly restart: () => Promise<void>;
  readonly close: () => Promise<void>;
}

const listen = (socket: string, onRegister: (r: RegisterRequest) => string | undefined): Promise<grpc.Server> => {
  const server = new grpc.Server();
  server.addService(v1beta1().Registration.service, {
    Register: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const req = RegisterRequest.decode(call.request);
      const refusal = E.isLeft(req) ? 'malformed RegisterRequest' : onRegister(req.right);
      if (refusal === undefined) return cb(null, {});
      return cb({ code: grpc.status.INVALID_ARGUMENT, details: refusal });
    },
  });
  return new Promise((resolve, reject) =>
    server.bindAsync(unixTarget(socket), grpc.ServerCredentials.createInsecure(), (err) => (err === null ? resolve(server) : reject(err))),
  );
};

export const startKubelet = async (dir: string): Promise<KubeletStandIn> => {
  const socket = join(dir, KUBELET_SOCKET);
  const registrations: Registered[] = [];
  const onRegister = (request: RegisterRequest): string | undefined => {
    if (request.version !== 'v1beta1') return `unsupported version ${request.version}`;
    const { DevicePlugin } = v1beta1();
    const client = new DevicePlugin(unixTarget(join(dir, request.endpoint)), grpc.credentials.createInsecure()) as unknown as PluginClient;
    const reg: Registered = { request, client, lists: [] };
    registrations.push(reg);
    // As kubelet: dial the endpoint after answering, then watch.
    setImmediate(() => {
      const stream = client.ListAndWatch({});
      stream.on('data', (m: { devices: Device[] }) => reg.lists.push({ at: Date.now(), devices: m.devices.map((d) => ({ ID: d.ID, health: d.health })) }));
      stream.on('error', () => undefined);
    });
    return undefined;
  };
  let server = await listen(socket, onRegister);
  const closeClients = (): void => {
    for (const r of registrations) r.client.close();
  };
  const latest = (resourceName: string): Registered | undefined => [...registrations].reverse().find((r) => r.request.resource_name === resourceName);
  return {
    socket,
    registrations,
    latest,
    call: (resourceName, method, req) =>
      new Promise((resolve) => {
        const reg = latest(resourceName);
        if (reg === undefined) throw new Error(`${resourceName} never registered`);
        reg.client[method](req, { deadline: Date.now() + 15000 }, (e, res) => resolve(e === null ? E.right(res) : E.left(e)));
      }),
    restart: async () => {
      server.forceShutdown();
      closeClients();
      for (const f of readdirSync(dir)) if (f.endsWith('.sock')) unlinkSync(join(dir, f));
      server = await listen(socket, onRegister);
    },
    close: async () => {
      closeClients();
      server.forceShutdown();
    },
  };
};

/** Polls until cond() holds; throws after ms naming what it waited for. */
export const until = async (what: string, cond: () => boolean, ms = 10000): Promise<number> => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
};
