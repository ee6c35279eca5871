// The wire format between the forwarder (forwarder/tapwire-cni-shim.c) and
// the daemon: NUL-separated header fields, then raw bytes to EOF, so neither
// side needs JSON or lengths up front (the forwarder half-closes when done).
//   request:  "TWCNI1\0" plugin "\0" { "KEY=VALUE\0" } "\0" stdin...
//   response: "TWCNI1\0" exit-code "\0" stderr-bytes "\0" stderr stdout...
import * as E from 'fp-ts/lib/Either.js';

export const MAGIC = 'TWCNI1';
/** A request larger than this is refused (a CNI config is kilobytes). */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

export interface ThickRequest {
  /** The forwarder's file name: which plugin runs. */
  readonly plugin: string;
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
}

export interface ThickResponse {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

const NUL = 0;

/** Splits `count` NUL-terminated fields off the front; undefined when the buffer ends first. */
const fields = (b: Buffer, from: number, count: number): { readonly values: string[]; readonly next: number } | undefined => {
  const values: string[] = [];
  let at = from;
  for (let i = 0; i < count; i += 1) {
    const end = b.indexOf(NUL, at);
    if (end < 0) return undefined;
    values.push(b.toString('utf8', at, end));
    at = end + 1;
  }
  return { values, next: at };
};

export const encodeRequest = (r: ThickRequest): Buffer =>
  Buffer.concat([
    Buffer.from(`${MAGIC}\0${r.plugin}\0${Object.entries(r.env).map(([k, v]) => `${k}=${v}\0`).join('')}\0`, 'utf8'),
    Buffer.from(r.stdin, 'utf8'),
  ]);

export const decodeRequest = (b: Buffer): E.Either<string, ThickRequest> => {
  const head = fields(b, 0, 2);
  if (head === undefined || head.values[0] !== MAGIC) return E.left(`not a tapwire CNI forwarder request (expected ${MAGIC})`);
  const plugin = head.values[1] ?? '';
  const env: Record<string, string> = {};
  let at = head.next;
  for (;;) {
    const f = fields(b, at, 1);
    if (f === undefined) return E.left('the request ends inside its environment');
    at = f.next;
    const entry = f.values[0] ?? '';
    if (entry === '') break;
    const eq = entry.indexOf('=');
    // environ may hold entries without '=' (or starting with one); a plugin cannot read those.
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return E.right({ plugin, env, stdin: b.toString('utf8', at) });
};

export const encodeResponse = (r: ThickResponse): Buffer => {
  const err = Buffer.from(r.stderr, 'utf8');
  return Buffer.concat([Buffer.from(`${MAGIC}\0${r.exitCode}\0${err.byteLength}\0`, 'utf8'), err, Buffer.from(r.stdout, 'utf8')]);
};

export const decodeResponse = (b: Buffer): E.Either<string, ThickResponse> => {
  const head = fields(b, 0, 3);
  if (head === undefined || head.values[0] !== MAGIC) return E.left('not a tapwire CNI daemon response');
  const exitCode = Number(head.values[1]);
  const errBytes = Number(head.values[2]);
  if (!Number.isInteger(exitCode) || !Number.isInteger(errBytes) || errBytes < 0 || head.next + errBytes > b.byteLength) return E.left('malformed tapwire CNI daemon response header');
  return E.right({ exitCode, stderr: b.toString('utf8', head.next, head.next + errBytes), stdout: b.toString('utf8', head.next + errBytes) });
};
