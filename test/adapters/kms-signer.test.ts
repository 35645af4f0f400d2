import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createPublicKey, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { CreateKeyCommand, KMSClient, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKmsClient } from '../../lib/adapters/aws/clients.js';
import { KmsKeyUnsuitableError, KmsRequestError } from '../../lib/adapters/aws/kms-errors.js';
import { KmsSigner } from '../../lib/adapters/aws/kms-signer.js';
import { systemRandom } from '../../lib/adapters/system.js';
import { createCaCertificate } from '../../lib/core/certificate-authority.js';
import { startKmsStandIn, type KmsStandIn } from '../support/kms-stand-in.js';

const credentials = { accessKeyId: 'AKIASIGNER', secretAccessKey: 'secret' };
let kms: KmsStandIn;
let client: KMSClient;

beforeAll(async () => {
  kms = await startKmsStandIn();
  client = makeKmsClient({ region: kms.region, endpoint: kms.url, credentials });
});

afterAll(async () => {
  client.destroy();
  await kms.close();
});

const newSigningKey = async () => {
  const answer = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
  return answer.KeyMetadata!.Arn!;
};

describe('KmsSigner', () => {
  it('signs with ECDSA P-256 over SHA-256, verifiable with node:crypto against the public key it reports', async () => {
    const signer = new KmsSigner(client, await newSigningKey());
    const publicKey = createPublicKey({ key: Buffer.from(await signer.publicKeySpki()), format: 'der', type: 'spki' });
    for (const size of [0, 1, 100, 10_000]) {
      const data = Buffer.alloc(size, size % 251);
      const signature = await signer.sign(data);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
      expect(verify('sha256', Buffer.concat([data, Buffer.of(1)]), { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(false);
    }
  });

  it('sends only a 32-byte digest to KMS, whatever the size of what it signs', async () => {
    const keyId = await newSigningKey();
    const signer = new KmsSigner(client, keyId);
    const data = Buffer.alloc(50_000, 7);
    const signature = await signer.sign(data);
    // KMS itself agrees the signature is over the digest of the data (Verify with MessageType DIGEST).
    const digest = createHash('sha256').update(data).digest();
    const verified = await client.send(
      new VerifyCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    expect(verified.SignatureValid).toBe(true);
  });

  it('builds a self-signed CA certificate with lib/core that verifies with its own key', async () => {
    const signer = new KmsSigner(client, await newSigningKey());
    const pem = await createCaCertificate(
      { signer, clock: { now: () => new Date() }, random: systemRandom },
      'kubeport user CA',
      86_400_000,
    );
    const certificate = new X509Certificate(pem);
    expect(certificate.ca).toBe(true);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(Buffer.from(certificate.publicKey.export({ type: 'spki', format: 'der' }))).toEqual(Buffer.from(await signer.publicKeySpki()));
  });

  it('fetches the public key once for many signatures, concurrent first callers sharing one request', async () => {
    const signer = new KmsSigner(client, await newSigningKey());
    const before = kms.calls.get('GetPublicKey') ?? 0;
    const signsBefore = kms.calls.get('Sign') ?? 0;
    await Promise.all([...Array(20).keys()].map((i) => signer.sign(Buffer.from(`certificate ${i}`))));
    await signer.publicKeySpki();
    expect((kms.calls.get('GetPublicKey') ?? 0) - before).toBe(1);
    expect((kms.calls.get('Sign') ?? 0) - signsBefore).toBe(20);
  });

  it('refuses a symmetric key, naming the key and the kind of key it needs, before signing anything', async () => {
    const symmetric = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const signs = kms.calls.get('Sign') ?? 0;
    const failure = new KmsSigner(client, symmetric).sign(Buffer.from('x'));
    await expect(failure).rejects.toBeInstanceOf(KmsKeyUnsuitableError);
    await expect(failure).rejects.toThrow(new RegExp(`${symmetric}.*ECC_NIST_P256`));
    expect(kms.calls.get('Sign') ?? 0).toBe(signs);
  });

  it('refuses to sign with a key pending deletion, saying how to cancel the deletion', async () => {
    const keyId = await newSigningKey();
    const signer = new KmsSigner(client, keyId);
    await signer.publicKeySpki();
    kms.keys.get(keyId.split('/').pop()!)!.state = 'PendingDeletion';
    const failure = signer.sign(Buffer.from('x'));
    await expect(failure).rejects.toBeInstanceOf(KmsRequestError);
    await expect(failure).rejects.toMatchObject({ code: 'invalid_config', awsError: 'KMSInvalidStateException', keyId });
    await expect(failure).rejects.toThrow(/cancel-key-deletion/);
  });

  it('names a key that does not exist and where its id comes from', async () => {
    const missing = `arn:aws:kms:${kms.region}:${kms.accountId}:key/00000000-0000-0000-0000-000000000000`;
    await expect(new KmsSigner(client, missing).publicKeySpki()).rejects.toMatchObject({ awsError: 'NotFoundException', keyId: missing });
  });

  it('turns KMS throttling into a rate-limited error the caller may retry', async () => {
    const signer = new KmsSigner(client, await newSigningKey());
    await signer.publicKeySpki();
    // The SDK retries a throttled call by itself; one attempt shows what happens once its retries are spent.
    const throttled = new KMSClient({ region: kms.region, endpoint: kms.url, credentials, maxAttempts: 1 });
    kms.failNext('Sign', 'ThrottlingException');
    const failure = new KmsSigner(throttled, signer.keyId).sign(Buffer.from('x'));
    await expect(failure).rejects.toMatchObject({ code: 'rate_limited', retryAfterSeconds: 1, awsError: 'ThrottlingException' });
    // A client is shown this one: it names neither the key nor the account.
    const message = await failure.then(
      () => '',
      (error: Error) => error.message,
    );
    expect(message).not.toContain(kms.accountId);
    expect(message).not.toContain(signer.keyId);
    throttled.destroy();
  });

  it('refuses a signature that does not verify against the key (another key answering under its id)', async () => {
    const keyId = await newSigningKey();
    const signer = new KmsSigner(client, keyId);
    await signer.publicKeySpki();
    // The key material behind the id changes after the public key was read.
    kms.keys.get(keyId.split('/').pop()!)!.privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await expect(signer.sign(Buffer.from('certificate'))).rejects.toThrow(/does not verify/);
  });
});

describe('makeKmsClient', () => {
  it("reaches KMS at the SDK's AWS_ENDPOINT_URL_KMS when no endpoint is given, as the bundled functions do", async () => {
    const saved = process.env.AWS_ENDPOINT_URL_KMS;
    process.env.AWS_ENDPOINT_URL_KMS = kms.url;
    const fromEnvironment = makeKmsClient({ region: kms.region, credentials });
    try {
      const before = kms.calls.get('GetPublicKey') ?? 0;
      await new KmsSigner(fromEnvironment, await newSigningKey()).publicKeySpki();
      expect(kms.calls.get('GetPublicKey')).toBe(before + 1);
    } finally {
      fromEnvironment.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_KMS;
      else process.env.AWS_ENDPOINT_URL_KMS = saved;
    }
  });

  it('gives up on a KMS that accepts the connection and never answers, instead of waiting for ever', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hung = makeKmsClient({
      region: kms.region,
      endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      credentials,
      requestTimeoutMs: 100,
    });
    try {
      await expect(new KmsSigner(hung, 'any-key').publicKeySpki()).rejects.toMatchObject({ code: 'unavailable', awsError: 'TimeoutError' });
    } finally {
      hung.destroy();
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describe('the KMS stand-in', () => {
  it('refuses a DIGEST that is not 32 bytes and a message over 4096 bytes, as KMS does', async () => {
    const keyId = await newSigningKey();
    const sign = (Message: Uint8Array, MessageType: 'DIGEST' | 'RAW') =>
      client.send(new SignCommand({ KeyId: keyId, Message, MessageType, SigningAlgorithm: 'ECDSA_SHA_256' }));
    await expect(sign(Buffer.alloc(31), 'DIGEST')).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(sign(Buffer.alloc(4097), 'RAW')).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      client.send(new SignCommand({ KeyId: keyId, Message: Buffer.alloc(32), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_384' })),
    ).rejects.toMatchObject({ name: 'InvalidKeyUsageException' });
    const raw = Buffer.from('raw message');
    const signature = (await sign(raw, 'RAW')).Signature!;
    const spki = await new KmsSigner(client, keyId).publicKeySpki();
    expect(
      verify(
        'sha256',
        raw,
        { key: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), dsaEncoding: 'der' },
        signature,
      ),
    ).toBe(true);
  });

  it('refuses a forged signature on Verify', async () => {
    const keyId = await newSigningKey();
    const digest = createHash('sha256').update('a').digest();
    const signature = Buffer.from(
      (await client.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })))
        .Signature!,
    );
    const other = createHash('sha256').update('b').digest();
    const verifyOf = (Message: Uint8Array, Signature: Uint8Array) =>
      client.send(new VerifyCommand({ KeyId: keyId, Message, MessageType: 'DIGEST', Signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
    await expect(verifyOf(other, signature)).rejects.toMatchObject({ name: 'KMSInvalidSignatureException' });
    await expect(verifyOf(digest, signature.subarray(0, 20))).rejects.toMatchObject({ name: 'KMSInvalidSignatureException' });
    // The same r and s in a non-DER form (r padded with a needless zero byte) is not a signature.
    const rLength = signature[3]!;
    const padded = Buffer.concat([Buffer.of(0x30, signature[1]! + 1, 0x02, rLength + 1, 0x00), signature.subarray(4)]);
    await expect(verifyOf(digest, padded)).rejects.toMatchObject({ name: 'KMSInvalidSignatureException' });
    expect((await verifyOf(digest, signature)).SignatureValid).toBe(true);
  });
});
