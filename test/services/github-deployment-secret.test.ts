// A GitHub connector whose client secret is the deployment's (client_secret_source: secrets_manager):
// nothing of the secret is stored or shown, the login reads it from the deployment, and a secret
// rotated at the holder works at the first login after GitHub refuses the kept one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientError } from '../../lib/client/api-client.js';
import type { KubeportError } from '../../lib/core/errors.js';
import type { DeploymentSecret } from '../../lib/core/ports.js';
import { loadConnector } from '../../lib/services/github-connectors.js';
import { CLIENT_ID, type GitHubHarness, startGitHubHarness } from '../support/github-harness.js';

/** The deployment's secret as the holder has it now; value() keeps what it read, as the Secrets Manager adapter does. */
class HeldSecret implements DeploymentSecret {
  reads = 0;
  private kept: string | undefined;
  constructor(public current: string) {}
  async value(): Promise<string> {
    return this.kept ?? this.refresh();
  }
  async refresh(): Promise<string> {
    this.reads += 1;
    this.kept = this.current;
    return this.kept;
  }
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: ClientError) => e,
  );

describe("a GitHub connector with the deployment's client secret", () => {
  let g: GitHubHarness;
  const held = new HeldSecret('deployment-secret-one');
  const connector = (name: string, spec: Record<string, unknown> = {}) => ({
    kind: 'github',
    version: 'v3',
    metadata: { name },
    spec: {
      client_id: CLIENT_ID,
      client_secret_source: 'secrets_manager',
      redirect_url: `http://${g.h.proxy}/webapi/github/callback`,
      endpoint_url: g.github.url,
      api_endpoint_url: g.github.apiUrl,
      teams_to_roles: [{ organization: 'acme', team: 'platform', roles: ['access'] }],
      ...spec,
    },
  });
  const login = async (user: string, id: number) => {
    g.github.addUser({ id, login: user, teams: [{ organization: 'acme', slug: 'platform' }] });
    g.github.signedIn = id;
    return g.browserLogin({ connector: 'deployed' });
  };

  beforeAll(async () => {
    g = await startGitHubHarness();
    g.h.deps.githubClientSecret = held;
    g.github.apps.get(CLIENT_ID)!.clientSecret = held.current;
    await g.admin('POST', '/webapi/admin/resources', { document: connector('deployed') });
  });
  afterAll(() => g.close());

  it('stores no secret, shows where it comes from, and signs in with the deployment secret', async () => {
    const stored = await g.h.deps.resources.get<{ spec: Record<string, unknown> }>('github', 'deployed');
    expect(stored!.body.spec).not.toHaveProperty('client_secret_sealed');
    expect(JSON.stringify(stored)).not.toContain(held.current);
    const [shown] = (await g.admin<{ items: { spec: Record<string, unknown> }[] }>('GET', '/webapi/admin/resources/github/deployed')).items;
    expect(shown!.spec.client_secret_source).toBe('secrets_manager');
    expect(JSON.stringify(shown)).not.toContain(held.current);
    expect((await login('dora', 501)).login?.username).toBe('dora');
  });

  it('reads the secret again once when GitHub refuses the kept one, so a rotated secret works at once', async () => {
    await login('warm', 502);
    const readsBefore = held.reads;
    held.current = 'deployment-secret-two';
    g.github.apps.get(CLIENT_ID)!.clientSecret = held.current;
    expect((await login('after-rotation', 503)).login?.username).toBe('after-rotation');
    expect(held.reads).toBe(readsBefore + 1);
    // The fresh secret is kept: the next login reads nothing.
    expect((await login('next', 504)).login?.username).toBe('next');
    expect(held.reads).toBe(readsBefore + 1);
  });

  it('tries once only: a secret GitHub refuses after a fresh read fails the login with what the admin must fix', async () => {
    g.github.apps.get(CLIENT_ID)!.clientSecret = 'a-secret-nobody-has';
    const readsBefore = held.reads;
    const result = await login('refused', 505);
    expect(result.err).toContain("GitHub refused the OAuth app's client_id or client_secret");
    expect(held.reads).toBe(readsBefore + 1);
    g.github.apps.get(CLIENT_ID)!.clientSecret = held.current;
  });

  it('refuses a connector that gives a secret and takes the deployment one too', async () => {
    const e = await refusal(g.admin('POST', '/webapi/admin/resources', { document: connector('both', { client_secret: 'x-secret' }) }));
    expect(e.message).toContain("a connector's secret comes from one place");
  });

  it('a server without a deployment secret refuses the login, and tells its operator which setting is missing', async () => {
    const e = await loadConnector({ ...g.h.deps, githubClientSecret: undefined }, 'deployed').then(
      () => undefined,
      (error: unknown) => error as KubeportError,
    );
    expect(e?.code).toBe('invalid_config');
    expect(e?.message).toContain('set githubClientSecretName and deploy again');
  });

  it('a connector given its secret with tctl keeps its sealed secret and never reads the deployment one', async () => {
    const readsBefore = held.reads;
    g.github.addUser({ id: 506, login: 'sealed-user', teams: [{ organization: 'acme', slug: 'platform' }] });
    g.github.signedIn = 506;
    // The harness's own connector "github" was created with tctl and a client_secret; the stand-in's app knows a different one now.
    g.github.apps.get(CLIENT_ID)!.clientSecret = 'kubeport-oauth-secret-0123456789abcdef';
    expect((await g.browserLogin({ connector: 'github' })).login?.username).toBe('sealed-user');
    expect(held.reads).toBe(readsBefore);
    g.github.apps.get(CLIENT_ID)!.clientSecret = held.current;
  });
});
