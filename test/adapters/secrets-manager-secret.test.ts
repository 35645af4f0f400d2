import { DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSecretsManagerClient } from '../../lib/adapters/aws/clients.js';
import { SecretsManagerSecret } from '../../lib/adapters/aws/secrets-manager-secret.js';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../support/secrets-manager-stand-in.js';

let secrets: SecretsManagerStandIn;
let client: SecretsManagerClient;
let at = Date.parse('2026-12-02T12:00:00Z');
const clock = { now: () => new Date(at) };
const reads = () => secrets.calls.get('GetSecretValue') ?? 0;

beforeAll(async () => {
  secrets = await startSecretsManagerStandIn();
  client = makeSecretsManagerClient({
    region: secrets.region,
    endpoint: secrets.url,
    credentials: { accessKeyId: 'AKIAAUTH', secretAccessKey: 'x' },
  });
});

afterAll(async () => {
  client.destroy();
  await secrets.close();
});

describe('SecretsManagerSecret', () => {
  it('reads the secret once for many callers, concurrent ones sharing the request, until the cache expires', async () => {
    secrets.put('github/cached', 'first-secret');
    const secret = new SecretsManagerSecret(client, 'github/cached', { clock });
    const before = reads();
    const values = await Promise.all([...Array(10)].map(() => secret.value()));
    expect(values).toEqual(Array(10).fill('first-secret'));
    at += 4 * 60_000;
    await secret.value();
    expect(reads() - before).toBe(1);
    secrets.put('github/cached', 'second-secret');
    at += 2 * 60_000;
    await expect(secret.value()).resolves.toBe('second-secret');
    expect(reads() - before).toBe(2);
  });

  it('picks up a rotated secret at once on refresh, and several refreshes at once cost one read', async () => {
    secrets.put('github/rotated', 'old-secret');
    const secret = new SecretsManagerSecret(client, 'github/rotated', { clock });
    await expect(secret.value()).resolves.toBe('old-secret');
    secrets.put('github/rotated', 'new-secret');
    at += 30_000;
    const before = reads();
    const refreshed = await Promise.all([secret.refresh(), secret.refresh(), secret.refresh()]);
    expect(refreshed).toEqual(['new-secret', 'new-secret', 'new-secret']);
    expect(reads() - before).toBe(1);
    await expect(secret.value()).resolves.toBe('new-secret');
  });

  it('reads again at most every ten seconds however often refresh is asked (a flood of bad logins)', async () => {
    secrets.put('github/flood', 'value');
    const secret = new SecretsManagerSecret(client, 'github/flood', { clock });
    await secret.value();
    const before = reads();
    for (let i = 0; i < 20; i++) await secret.refresh();
    expect(reads() - before).toBe(1);
    at += 9_999;
    await secret.refresh();
    expect(reads() - before).toBe(1);
    at += 1;
    await secret.refresh();
    expect(reads() - before).toBe(2);
  });

  it('refreshes at once when the kept value was read moments ago by value(): a rotation right after a cold start works', async () => {
    secrets.put('github/fresh-start', 'old-secret');
    const secret = new SecretsManagerSecret(client, 'github/fresh-start', { clock });
    await expect(secret.value()).resolves.toBe('old-secret');
    secrets.put('github/fresh-start', 'new-secret');
    await expect(secret.refresh()).resolves.toBe('new-secret');
  });

  it('takes the client_secret field of a JSON secret, or the plain string', async () => {
    secrets.put('github/json', JSON.stringify({ client_id: 'Iv1.abc', client_secret: 'from-json' }));
    await expect(new SecretsManagerSecret(client, 'github/json', { clock }).value()).resolves.toBe('from-json');
    secrets.put('github/plain', '  plain-secret\n');
    await expect(new SecretsManagerSecret(client, 'github/plain', { clock }).value()).resolves.toBe('plain-secret');
  });

  it('never puts the value in an error, even when the secret is malformed', async () => {
    const value = '{"client_secret": "leaky-value-123"';
    secrets.put('github/broken', value);
    const failure = new SecretsManagerSecret(client, 'github/broken', { clock }).value();
    await expect(failure).rejects.toMatchObject({ code: 'invalid_config' });
    const error = await failure.then(
      () => new Error('resolved'),
      (e: Error) => e,
    );
    expect(`${error.message} ${String(error.cause)} ${error.stack}`).not.toContain('leaky-value-123');
    secrets.put('github/no-field', JSON.stringify({ secret: 'leaky-value-123' }));
    const missing = await new SecretsManagerSecret(client, 'github/no-field', { clock }).value().then(
      () => new Error('resolved'),
      (e: Error) => e,
    );
    expect(missing.message).toMatch(/without a string "client_secret"/);
    expect(missing.message).not.toContain('leaky-value-123');
  });

  it('names a missing secret and how to create it, and tries again on the next call', async () => {
    const secret = new SecretsManagerSecret(client, 'github/absent', { clock });
    await expect(secret.value()).rejects.toThrow(/github\/absent.*aws secretsmanager create-secret --name github\/absent/);
    secrets.put('github/absent', 'now-here');
    await expect(secret.value()).resolves.toBe('now-here');
  });
});

describe('makeSecretsManagerClient', () => {
  it("reaches Secrets Manager at the SDK's AWS_ENDPOINT_URL_SECRETS_MANAGER when no endpoint is given", async () => {
    const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
    const fromEnvironment = makeSecretsManagerClient({
      region: secrets.region,
      credentials: { accessKeyId: 'AKIAAUTH', secretAccessKey: 'x' },
    });
    try {
      secrets.put('github/from-environment', 'value');
      await expect(new SecretsManagerSecret(fromEnvironment, 'github/from-environment', { clock }).value()).resolves.toBe('value');
    } finally {
      fromEnvironment.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
    }
  });
});

describe('the Secrets Manager stand-in', () => {
  it('labels each put a new AWSCURRENT version and the one before AWSPREVIOUS', async () => {
    const first = secrets.put('rotation/versions', 'one');
    const second = secrets.put('rotation/versions', 'two');
    const described = await client.send(new DescribeSecretCommand({ SecretId: first.arn }));
    expect(described.VersionIdsToStages).toEqual({ [first.versionId]: ['AWSPREVIOUS'], [second.versionId]: ['AWSCURRENT'] });
    const current = await client.send(new GetSecretValueCommand({ SecretId: 'rotation/versions' }));
    expect(current).toMatchObject({ SecretString: 'two', VersionId: second.versionId, VersionStages: ['AWSCURRENT'] });
    const previous = await client.send(new GetSecretValueCommand({ SecretId: 'rotation/versions', VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('one');
  });
});
