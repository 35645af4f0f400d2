// Local mode's servers answer processes on this machine, never web pages. A page can reach a
// loopback port two ways: a cross-site request (the browser adds Origin) or DNS rebinding (its
// own host name resolving to 127.0.0.1; the Host header still names that host).
import type { IncomingMessage } from 'node:http';
import { isLoopbackAuthority } from '../../core/loopback.js';

/** Why a request looks like it comes from a web page, or undefined when it does not. */
export function browserRequestReason(req: IncomingMessage): string | undefined {
  if (req.headers.origin !== undefined) return 'requests with an Origin header are refused';
  const host = req.headers.host;
  if (host !== undefined && !isLoopbackAuthority(host)) return `requests for host ${host} are refused (only loopback names are served)`;
  return undefined;
}
