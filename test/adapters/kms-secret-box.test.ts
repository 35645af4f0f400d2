import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKmsClient } from '../../lib/adapters/aws/clients.js';
import { KmsSecretBox } from '../../lib/adapters/aws/kms-secret-box.js';
import { startKmsStandIn, type KmsStandIn } from '../support/kms-stand-in.js';

let kms: KmsStandIn;
let client: KMSClient;
let keyId: string;

beforeAll(async () => {
  kms = await startKmsStandIn();
  client = makeKmsClient({ region: kms.region, endpoint: kms.url, credentials: { accessKeyId: 'AKIAAUTH', secretAccessKey: 'secret' } });
  keyId = (await client.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.Arn!;
});

afterAll(async () => {
  client.destroy();
  await kms.close();
});

describe('KmsSecretBox', () => {
  it('opens what it sealed, and the sealed text does not contain the secret', async () => {
    const box = new KmsSecretBox(client, keyId, 'kubeport/acme/secrets');
    for (const secret of ['JBSWY3DPEHPK3PXP', 'ünïcödé client secret', 'x'.repeat(4096)]) {
      const sealed = await box.seal(secret);
      expect(sealed).toMatch(/^kms1\.[A-Za-z0-9_-]+$/);
      expect(sealed).not.toContain(secret);
      await expect(box.open(sealed)).resolves.toBe(secret);
    }
  });

  it('refuses to open a value sealed for another purpose with the same key', async () => {
    const sealed = await new KmsSecretBox(client, keyId, 'kubeport/acme/totp').seal('seed');
    await expect(new KmsSecretBox(client, keyId, 'kubeport/acme/connectors').open(sealed)).rejects.toThrow(
      /not sealed by KMS key .* for kubeport\/acme\/connectors/,
    );
  });

  it('refuses a value sealed by another key the role may also use', async () => {
    const otherKey = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const sealed = await new KmsSecretBox(client, otherKey, 'kubeport/acme/secrets').seal('seed');
    await expect(new KmsSecretBox(client, keyId, 'kubeport/acme/secrets').open(sealed)).rejects.toThrow(/not sealed by KMS key/);
  });

  it('refuses a tampered or foreign sealed value without sending it anywhere it should not go', async () => {
    const box = new KmsSecretBox(client, keyId, 'kubeport/acme/secrets');
    const sealed = await box.seal('seed');
    const flipped = sealed.slice(0, -3) + (sealed.at(-3) === 'A' ? 'B' : 'A') + sealed.slice(-2);
    await expect(box.open(flipped)).rejects.toThrow(/altered or copied/);
    const decrypts = kms.calls.get('Decrypt') ?? 0;
    for (const foreign of ['v1.abc.def.ghi', 'kms1.not base64!', 'kms1.', `kms1.${'A'.repeat(10_000)}`]) {
      await expect(box.open(foreign)).rejects.toThrow(/unknown format/);
    }
    expect(kms.calls.get('Decrypt') ?? 0).toBe(decrypts);
  });

  it('asks KMS once for a value opened again and again while the cache holds it, and again after', async () => {
    let at = 0;
    const box = new KmsSecretBox(client, keyId, 'kubeport/acme/secrets', { clock: { now: () => new Date(at) }, ttlMs: 60_000 });
    const sealed = await box.seal('connector secret');
    const before = kms.calls.get('Decrypt') ?? 0;
    const opened = await Promise.all([box.open(sealed), box.open(sealed), box.open(sealed)]);
    expect(opened).toEqual(Array(3).fill('connector secret'));
    expect((kms.calls.get('Decrypt') ?? 0) - before).toBe(1);
    at += 60_000;
    await box.open(sealed);
    expect((kms.calls.get('Decrypt') ?? 0) - before).toBe(2);
  });

  it('does not keep a refusal: a value that failed to open is asked of KMS again', async () => {
    const box = new KmsSecretBox(client, keyId, 'kubeport/acme/secrets', { clock: { now: () => new Date(0) }, ttlMs: 60_000 });
    const foreign = await new KmsSecretBox(client, keyId, 'kubeport/acme/other').seal('x');
    const before = kms.calls.get('Decrypt') ?? 0;
    await expect(box.open(foreign)).rejects.toThrow(/not sealed/);
    await expect(box.open(foreign)).rejects.toThrow(/not sealed/);
    expect((kms.calls.get('Decrypt') ?? 0) - before).toBe(2);
  });

  it('refuses to seal more than KMS encrypts, or nothing', async () => {
    const box = new KmsSecretBox(client, keyId, 'kubeport/acme/secrets');
    await expect(box.seal('x'.repeat(4097))).rejects.toMatchObject({ code: 'payload_too_large' });
    await expect(box.seal('')).rejects.toMatchObject({ code: 'payload_too_large' });
  });

  it('refuses a signing key with an error naming the key and the kind it needs', async () => {
    const signingKey = (await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
    await expect(new KmsSecretBox(client, signingKey, 'p').seal('seed')).rejects.toThrow(new RegExp(`${signingKey}.*SYMMETRIC_DEFAULT`));
  });
});
