// Request bodies are read whole, within a deadline and up to a cap, before the request takes an
// upstream connection: a client that announces a body and sends it slowly (or never) holds only
// its own connection to the agent, never one of the shared pool toward the cluster.
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { KubeportError, badRequest } from '../lib/core/errors.js';

export interface BodyLimits {
  /** Largest body read into memory; larger ones are refused with 413 (or streamed, see below). */
  maxBodyBytes: number;
  /** Time the whole body (buffered) or each next chunk of it (streamed) may take to arrive. */
  bodyTimeoutMs: number;
}

const tooLarge = (max: number) =>
  new KubeportError(
    'payload_too_large',
    `the request body is larger than the agent accepts (${max} bytes); the Kubernetes API server itself refuses bodies over 3 MiB`,
  );
const tooSlow = (ms: number) =>
  new KubeportError(
    'request_timeout',
    `the request body did not arrive within ${ms / 1000} s; check the network between you and Kubeport, then try again`,
  );

/** Reads the body; `announced` is its Content-Length, undefined when chunked. */
export function readBody(req: IncomingMessage, announced: number | undefined, limits: BodyLimits): Promise<Buffer> {
  if (announced !== undefined && announced > limits.maxBodyBytes) return Promise.reject(tooLarge(limits.maxBodyBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (error: Error) => {
      clearTimeout(deadline);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      reject(error);
    };
    const deadline = setTimeout(() => fail(tooSlow(limits.bodyTimeoutMs)), limits.bodyTimeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBodyBytes) fail(tooLarge(limits.maxBodyBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      clearTimeout(deadline);
      req.off('error', onError).off('close', onClose);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onClose = () => fail(badRequest('the client closed the connection before its request body ended'));
    const onError = (error: Error) => fail(badRequest(`the request body could not be read: ${error.message}`));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * A body passed through as it arrives (proxy subresources, which carry whatever the proxied
 * service takes): each chunk must follow the last within the deadline, else the request fails.
 */
export function streamBody(req: IncomingMessage, limits: BodyLimits): Readable {
  const body = new PassThrough();
  let timer = setTimeout(() => idle(), limits.bodyTimeoutMs);
  const idle = () => {
    req.unpipe(body);
    body.destroy(tooSlow(limits.bodyTimeoutMs));
  };
  req.on('data', () => {
    clearTimeout(timer);
    timer = setTimeout(idle, limits.bodyTimeoutMs);
  });
  req.on('end', () => clearTimeout(timer));
  req.on('close', () => clearTimeout(timer));
  req.pipe(body);
  return body;
}

/** A refused body is read and dropped only up to this many times the cap; past it the connection is cut. */
const DISCARD_FACTOR = 4;

/**
 * Before a 413 goes out on a connection that then closes: the rest of the body is read and
 * dropped (up to a few times the cap, within the body deadline), then `answer` runs. Closing
 * with unread bytes resets the connection, and a client still sending (kubectl create with a
 * large file) then reports "broken pipe" instead of the Status. A body announced far over the
 * cap is not read: `answer` runs at once.
 */
export function discardBodyThen(req: IncomingMessage, limits: BodyLimits, answer: () => void): void {
  const cap = DISCARD_FACTOR * limits.maxBodyBytes;
  const announced = Number(req.headers['content-length'] ?? 0);
  if (req.complete || announced > cap) return answer();
  let seen = 0;
  let answered = false;
  const once = () => {
    if (answered) return;
    answered = true;
    clearTimeout(deadline);
    answer();
  };
  const deadline = setTimeout(once, limits.bodyTimeoutMs);
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > cap) once();
  });
  req.on('end', once);
  req.on('close', once);
  req.resume();
}
