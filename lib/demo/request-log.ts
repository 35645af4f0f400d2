// The stand-in records every request as it arrived, so tests can check what a proxy sent.
import type { IncomingMessage } from 'node:http';
import type { RecordedRequest } from './types.js';

/** All values of one header in a recorded request, matched case-insensitively. */
export function headerValues(request: RecordedRequest, name: string): string[] {
  const lower = name.toLowerCase();
  return request.headers.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
}

/** Appends the request, raw header lines in arrival order, to `log` and returns its record. */
export function recordRequest(log: RecordedRequest[], req: IncomingMessage): RecordedRequest {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
  const record: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, authenticated: null, effective: null };
  log.push(record);
  return record;
}
