// A GitHub connector whose client secret is the deployment's (client_secret_source: secrets_manager):
// nothing of the secret is stored or shown, the login reads it from the deployment, and a secret
// rotated at the holder works at the first login after GitHub refuses the kept one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
      teams_to_roles: [{ organization: 'acme', team: 'platform', roles: ['access'] }],
      ...spec,
    },
  });
  const login = async (user: string, id: number) => {
    g.github.addUser({ id, login: user, teams: [{ organization: 'acme', slug: 'platform' }] });
    g.github.signedIn = id;
    return g.browserLogin({ connector: 'deployed' });
  };

  /** An endpoint someone else runs: it records what reaches it. */
  let thief: http.Server;
  let thiefUrl: string;
  const stolen: string[] = [];

  beforeAll(async () => {
    thief = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        stolen.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => thief.listen(0, '127.0.0.1', () => resolve()));
    thiefUrl = `http://127.0.0.1:${(thief.address() as AddressInfo).port}`;
    g = await startGitHubHarness();
    g.h.deps.githubClientSecret = held;
    // The deployment's OAuth app, on the deployment's GitHub (the stand-in here, github.com when deployed).
    g.h.deps.githubClientId = CLIENT_ID;
    g.h.deps.githubEndpoints = { endpointUrl: g.github.url, apiEndpointUrl: g.github.apiUrl };
    g.github.apps.get(CLIENT_ID)!.clientSecret = held.current;
    await g.admin('POST', '/webapi/admin/resources', { document: connector('deployed') });
  });
  afterAll(async () => {
    await g.close();
    await new Promise<void>((resolve) => thief.close(() => resolve()));
  });

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

  it('refuses to store a connector that would send the deployment secret to another GitHub, naming the field and the fix', async () => {
    for (const field of ['endpoint_url', 'api_endpoint_url']) {
      const e = await refusal(
        g.admin('POST', '/webapi/admin/resources', { document: connector(`elsewhere-${field}`, { [field]: thiefUrl }) }),
      );
      expect(e.message).toContain(`spec.${field} must be left out`);
      expect(e.message).toContain('give the connector its own client_secret');
      expect(await g.h.deps.resources.get('github', `elsewhere-${field}`)).toBeUndefined();
    }
    expect(stolen).toEqual([]);
  });

  it("refuses to store a connector that would send the deployment secret with another OAuth app's client ID", async () => {
    const e = await refusal(
      g.admin('POST', '/webapi/admin/resources', { document: connector('other-app', { client_id: 'Iv1.someone-else' }) }),
    );
    expect(e.message).toContain(`spec.client_id must be the deployment's OAuth app (${CLIENT_ID})`);
    expect(await g.h.deps.resources.get('github', 'other-app')).toBeUndefined();
  });

  it('a deployment without a GitHub OAuth app refuses to store a connector taking its secret', async () => {
    g.h.deps.githubClientId = undefined;
    try {
      const e = await refusal(g.admin('POST', '/webapi/admin/resources', { document: connector('no-app') }));
      expect(e.message).toContain('this deployment has no GitHub OAuth app (githubClientId)');
    } finally {
      g.h.deps.githubClientId = CLIENT_ID;
    }
  });

  it('a connector written around the check (straight into the table) never gets the secret: the login is refused and nothing reaches its endpoint', async () => {
    const planted = (name: string, spec: Record<string, unknown>) => {
      const body = connector(name, spec);
      return g.h.deps.resources.put('github', name, body, { expectRevision: null });
    };
    await planted('planted-endpoint', { endpoint_url: thiefUrl, api_endpoint_url: thiefUrl });
    await planted('planted-client', { client_id: 'Iv1.someone-else' });
    const readsBefore = held.reads;
    for (const name of ['planted-endpoint', 'planted-client']) {
      const e = await loadConnector(g.h.deps, name).then(
        () => undefined,
        (error: unknown) => error as KubeportError,
      );
      expect(e?.code).toBe('invalid_config');
      g.github.addUser({ id: 600 + name.length, login: `victim-${name}`, teams: [{ organization: 'acme', slug: 'platform' }] });
      g.github.signedIn = 600 + name.length;
      // The operator's message stays in the server log; the person is refused at the start.
      const result = await g.browserLogin({ connector: name }).catch((error: Error) => ({ login: undefined, err: error.message }));
      expect(result.login).toBeUndefined();
    }
    expect(held.reads).toBe(readsBefore);
    expect(stolen).toEqual([]);
  });
});
