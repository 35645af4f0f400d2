// The GitHub login starts and headless polls need no login, and each stores state, may call
// GitHub and writes audit events on failure: one address flooding them is answered 429 with
// Retry-After and a message that says when to try again, and the limit passes with its window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyPair } from '../../lib/client/login.js';
import { githubHeadlessPollLimit, githubLoginStartLimit } from '../../lib/services/source-rate-limit.js';
import { searchEvents } from '../support/audit-events.js';
import { type GitHubHarness, startGitHubHarness } from '../support/github-harness.js';

describe('per-source limit on GitHub login starts and headless polls', () => {
  let g: GitHubHarness;
  const publicKey = newKeyPair().publicKeyPem;
  const post = (path: string, body: unknown) =>
    fetch(`http://${g.h.proxy}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const consoleStart = () => post('/webapi/github/login/console', { public_key: publicKey, redirect_url: g.clientRedirect().url });
  const headlessStart = () => post('/webapi/github/login/headless', { public_key: publicKey });

  beforeAll(async () => {
    g = await startGitHubHarness();
  });
  afterAll(() => g.close());

  it('counts browser and headless starts together, refuses the one past the limit with 429 and Retry-After, and lets starts through once the window passed', async () => {
    const deviceCodes = () => g.github.hits.get('/login/device/code') ?? 0;
    const half = githubLoginStartLimit.perWindow / 2;
    for (let i = 0; i < half; i++) expect((await consoleStart()).status).toBe(200);
    for (let i = 0; i < half; i++) expect((await headlessStart()).status).toBe(200);
    const asked = deviceCodes();
    g.h.clock.advance(20_000);
    for (const refused of [await consoleStart(), await headlessStart()]) {
      expect(refused.status).toBe(429);
      // The state store keeps whole seconds, rounded up.
      expect(refused.headers.get('retry-after')).toMatch(/^4[01]$/);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('rate_limited');
      expect(body.error.message).toMatch(/^too many GitHub login starts from your address \(30 per 60s\); try again in 4[01]s$/);
    }
    // A refused headless start never reached GitHub.
    expect(deviceCodes()).toBe(asked);
    // The first refusal of the window is audited as a failed login; the next only repeats it.
    const refusals = (
      await searchEvents(g.h.deps.audit, {
        from: new Date(Date.now() - 86_400_000),
        to: new Date(Date.now() + 86_400_000),
        event: 'user.login',
      })
    ).filter((e) => String(e.error).startsWith('too many GitHub login starts'));
    expect(refusals).toEqual([
      expect.objectContaining({ success: false, code: 'T1001W', method: 'github', 'addr.remote': expect.any(String) }),
    ]);
    g.h.clock.advance(42_000);
    expect((await consoleStart()).status).toBe(200);
  });

  it('refuses headless polls past their limit, unknown request ids included (each would write an audit event)', async () => {
    const unknown = { request_id: '0'.repeat(32) };
    for (let i = 0; i < githubHeadlessPollLimit.perWindow; i++)
      expect((await post('/webapi/github/login/headless/poll', unknown)).status).toBe(401);
    const refused = await post('/webapi/github/login/headless/poll', unknown);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
