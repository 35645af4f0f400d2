// The GitHub HTTP adapter against the GitHub stand-in: GitHub's answers become errors that say
// what to do.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubHttpApi } from '../../lib/adapters/github/github-http-api.js';
import type { KubeportError } from '../../lib/core/errors.js';
import { freePort } from '../../lib/adapters/local/free-port.js';
import { GitHubStandIn } from '../support/github-stand-in.js';

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: KubeportError) => e,
  );

describe('GitHub HTTP adapter', () => {
  let github: GitHubStandIn;
  const api = new GitHubHttpApi();
  const callbackUrl = 'http://127.0.0.1:1/webapi/github/callback';
  let app: { endpointUrl: string; apiEndpointUrl: string; clientId: string; clientSecret: string };
  /** A token for user 7, got the way Kubeport gets one. */
  const token = async () => {
    const verifier = 'x'.repeat(43);
    const url = new URL(`${github.url}/login/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: app.clientId,
      redirect_uri: callbackUrl,
      state: 's',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const code = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    return api.exchangeCode(app, { code, redirectUri: callbackUrl, codeVerifier: verifier });
  };

  beforeAll(async () => {
    github = await GitHubStandIn.start();
    github.addApp({ clientId: 'app', clientSecret: 'secret', callbackUrl });
    github.addUser({ id: 7, login: 'octo', teams: [{ organization: 'acme', slug: 'platform', name: 'Platform' }] });
    github.signedIn = 7;
    app = { endpointUrl: github.url, apiEndpointUrl: github.apiUrl, clientId: 'app', clientSecret: 'secret' };
  });
  afterAll(() => github.close());

  it('reads the user (id as a string) and the teams with their organization and slug', async () => {
    const t = await token();
    expect(await api.user(app, t)).toEqual({ login: 'octo', id: '7' });
    expect(await api.teams(app, t)).toEqual([{ organization: 'acme', slug: 'platform', name: 'Platform' }]);
  });

  it('a used up rate limit says until when', async () => {
    const t = await token();
    github.rateLimitedUntil = 2_000_000_000;
    try {
      const e = await refusal(api.user(app, t));
      expect(e.code).toBe('rate_limited');
      expect(e.message).toBe("GitHub's API rate limit is used up until 2033-05-18T03:33:20.000Z; try again then");
    } finally {
      github.rateLimitedUntil = undefined;
    }
  });

  it('a wrong client secret, a wrong redirect_uri and an unreachable GitHub name the fix', async () => {
    const wrongSecret = await refusal(
      api.exchangeCode({ ...app, clientSecret: 'nope' }, { code: 'c', redirectUri: callbackUrl, codeVerifier: 'v' }),
    );
    expect(wrongSecret.code).toBe('bad_gateway');
    expect(wrongSecret.message).toContain(
      "GitHub refused the OAuth app's client_id or client_secret; an admin must fix the github connector",
    );
    const port = await freePort();
    const down = await refusal(api.user({ endpointUrl: `http://127.0.0.1:${port}`, apiEndpointUrl: `http://127.0.0.1:${port}` }, 't'));
    expect(down.code).toBe('bad_gateway');
    expect(down.message).toContain(`could not reach GitHub at http://127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it('redirect_uri other than the one the code was issued for is refused as GitHub does', async () => {
    const verifier = 'y'.repeat(43);
    const url = new URL(`${github.url}/login/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: 'app',
      redirect_uri: callbackUrl,
      state: 's',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const code = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    const e = await refusal(api.exchangeCode(app, { code, redirectUri: `${callbackUrl}/other`, codeVerifier: verifier }));
    expect(e.message).toContain("the connector's redirect_url is not the OAuth app's callback URL at GitHub");
  });
});
