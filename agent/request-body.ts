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
