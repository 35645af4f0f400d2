// Error answers of the HTTP API over a real loopback server: the router (lambdas/http.ts) and the
// local adapter around it answer through the same rule, and a bug never leaks its detail.
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiGatewayServer } from '../../lib/adapters/local/api-gateway-adapter.js';
import { KubeportError } from '../../lib/core/errors.js';
import { createRouter } from '../../lambdas/http.js';

const logged: string[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  const log = (message: string) => logged.push(message);
  const router = createRouter(
    [
      {
        method: 'GET',
        pattern: '/v1/boom',
        handler: async () => {
          throw new Error('could not open /var/lib/kubeport/user-ca.key: EACCES');
        },
      },
      {
        method: 'GET',
        pattern: '/v1/limited',
        handler: async () => {
          throw new KubeportError('rate_limited', 'too many failed logins; try again in 42 s', { retryAfterSeconds: 42 });
        },
      },
    ],
    log,
  );
  // A handler that rejects outside the router exercises the adapter's own error path.
  const crashing = async () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'token')"));
  server = createApiGatewayServer((path) => (path === '/v1/crash' ? crashing : router), log);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('HTTP API error answers', () => {
  it.each(['/v1/boom', '/v1/crash'])(
    'answers an unexpected error on %s with 500, code internal, a generic message and no stack',
    async (path) => {
      logged.length = 0;
      const res = await fetch(base + path);
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: 'internal error; the server log has the details' } });
      expect(text).not.toMatch(/EACCES|kubeport\/|token|TypeError|\bat /);
      // The operator still gets the whole story.
      expect(logged.join('\n')).toMatch(/(EACCES|reading 'token')[^]*\n\s+at /);
    },
  );

  it('answers rate limiting with 429, its message and Retry-After', async () => {
    const res = await fetch(`${base}/v1/limited`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('42');
    expect(await res.json()).toEqual({ error: { code: 'rate_limited', message: 'too many failed logins; try again in 42 s' } });
  });

  it("answers the adapter's own refusals in the same shape", async () => {
    const fromPage = await fetch(`${base}/v1/limited`, { headers: { origin: 'https://evil.example' } });
    expect(fromPage.status).toBe(403);
    expect(((await fromPage.json()) as { error: { code: string } }).error.code).toBe('access_denied');
    const large = await fetch(`${base}/v1/limited`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(2 * 1024 * 1024),
    }).catch((error: unknown) => error);
    // The server resets the connection after answering 413; a client still uploading may see the
    // reset instead of the answer, so the shape is checked whenever the answer arrives (it does here).
    if (large instanceof Response) {
      expect(large.status).toBe(413);
      expect(await large.json()).toEqual({ error: { code: 'payload_too_large', message: 'request body is larger than 1 MiB' } });
    }
  });
});
