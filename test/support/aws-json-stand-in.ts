// The wire protocol shared by the KMS and Secrets Manager stand-ins: AWS JSON 1.1 (POST /, the
// operation in `X-Amz-Target: <Service>.<Op>`, a JSON body, errors as `{"__type", "message"}` with
// an HTTP status), so the real SDK clients talk to them unchanged.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/** An AWS error as the service names it (`__type`), with its HTTP status. */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface AwsJsonCall {
  /** The access key id from the SigV4 Authorization header's Credential. */
  accessKeyId: string;
  body: Record<string, unknown>;
}

export type AwsJsonHandlers = Record<string, (call: AwsJsonCall) => unknown>;

export interface AwsJsonStandIn {
  url: string;
  /** Requests per operation, failed ones included. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

// Real services cap request bodies far below this; a stand-in only needs to refuse a runaway one.
const MAX_BODY_BYTES = 1 << 20;

/** The access key id of a SigV4 `Authorization` header, or undefined when there is none. */
export function sigV4AccessKeyId(authorization: string | undefined): string | undefined {
  const match = /^AWS4-HMAC-SHA256 .*Credential=([^/,\s]+)\//.exec(authorization ?? '');
  return match?.[1];
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AwsJsonError('SerializationException', 'request body too large', 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(text);
}

/** Serves `handlers` (by operation name) for the target prefix `service` (`TrentService`, `secretsmanager`). */
export async function startAwsJsonStandIn(
  service: string,
  handlers: AwsJsonHandlers,
  options: {
    /** Runs for every known, authenticated operation before its handler; throws to fail it (an unknown caller, an injected throttle). */
    before?: (operation: string, accessKeyId: string) => void;
  } = {},
): Promise<AwsJsonStandIn> {
  const calls = new Map<string, number>();
  const handle = async (request: IncomingMessage): Promise<unknown> => {
    if (request.method !== 'POST' || request.url !== '/') throw new AwsJsonError('UnknownOperationException', 'POST / only', 404);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(`${service}.`) ? target.slice(service.length + 1) : undefined;
    const handler = operation === undefined ? undefined : Object.hasOwn(handlers, operation) ? handlers[operation] : undefined;
    if (operation === undefined || handler === undefined) throw new AwsJsonError('UnknownOperationException', `unknown target ${target}`);
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
      throw new AwsJsonError('SerializationException', 'Content-Type must be application/x-amz-json-1.1');
    }
    const accessKeyId = sigV4AccessKeyId(request.headers.authorization);
    if (accessKeyId === undefined) throw new AwsJsonError('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    options.before?.(operation, accessKeyId);
    let body: unknown;
    try {
      const raw = await readBody(request);
      body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
    } catch (error) {
      if (error instanceof AwsJsonError) throw error;
      throw new AwsJsonError('SerializationException', 'request body is not JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new AwsJsonError('SerializationException', 'request body must be a JSON object');
    return handler({ accessKeyId, body: body as Record<string, unknown> });
  };
  const server = createServer((request, response) => {
    handle(request).then(
      (result) => send(response, 200, result ?? {}),
      (error: unknown) => {
        if (error instanceof AwsJsonError) send(response, error.status, { __type: error.type, message: error.message });
        else send(response, 500, { __type: 'InternalFailure', message: String(error) });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Body field readers that answer a malformed request the way AWS does (ValidationException). */
export function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) throw new AwsJsonError('ValidationException', `${field} is required`);
  return value;
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsJsonError('ValidationException', `${field} must be a string`);
  return value;
}

/** A blob member: base64 in JSON, as the SDK sends it. */
export function requiredBlob(body: Record<string, unknown>, field: string): Buffer {
  const value = requiredString(body, field);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new AwsJsonError('SerializationException', `${field} is not base64`);
  return Buffer.from(value, 'base64');
}

/** Failures a test injects: the next `count` calls of an operation answer with an AWS error type (ThrottlingException...). */
export function injectedFailures(): {
  before: (operation: string) => void;
  failNext: (operation: string, errorType: string, count?: number) => void;
} {
  const failures = new Map<string, { errorType: string; count: number }>();
  return {
    before(operation) {
      const failure = failures.get(operation);
      if (!failure) return;
      if (--failure.count <= 0) failures.delete(operation);
      throw new AwsJsonError(failure.errorType, `${failure.errorType} injected by the test`);
    },
    failNext: (operation, errorType, count = 1) => failures.set(operation, { errorType, count }),
  };
}
