import { DescribeKeyCommand, GetKeyPolicyCommand, ListResourceTagsCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_SIGN_GUARD_SID, caKeyPolicyDocument } from '../../lib/adapters/aws/ca-key-policy.js';
import { makeKmsClient } from '../../lib/adapters/aws/clients.js';
import { KmsRequestError } from '../../lib/adapters/aws/kms-errors.js';
import { KmsSigningKeys } from '../../lib/adapters/aws/kms-signing-keys.js';
import { startKmsStandIn, type KmsStandIn } from '../support/kms-stand-in.js';

const account = '123456789012';
const authRole = `arn:aws:iam::${account}:role/kubeport-auth`;
const bootstrapRole = `arn:aws:iam::${account}:role/kubeport-ca-bootstrap`;
const adminRole = `arn:aws:iam::${account}:role/kubeport-admin`;
const administrator = `arn:aws:iam::${account}:role/Administrator`;

let kms: KmsStandIn;
const clients: KMSClient[] = [];
const clientAs = (accessKeyId: string) => {
  const client = makeKmsClient({ region: kms.region, endpoint: kms.url, credentials: { accessKeyId, secretAccessKey: 'secret' } });
  clients.push(client);
  return client;
};

beforeAll(async () => {
  kms = await startKmsStandIn({
    accountId: account,
    principals: { AKIAAUTH: authRole, AKIABOOTSTRAP: bootstrapRole, AKIAADMIN: adminRole, AKIAROOTISH: administrator },
  });
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await kms.close();
});

const keysAs = (accessKeyId: string) =>
  new KmsSigningKeys(clientAs(accessKeyId), { deploymentTag: 'prod-7f3a', signerRoleArns: [authRole, bootstrapRole], clusterName: 'acme' });

describe('KmsSigningKeys', () => {
  it('creates a P-256 signing key tagged with the deployment and the CA type, described by its CA', async () => {
    const keys = keysAs('AKIAAUTH');
    const keyId = await keys.create('user');
    expect(keyId).toMatch(new RegExp(`^arn:aws:kms:${kms.region}:${account}:key/`));
    const client = clientAs('AKIAAUTH');
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(KeyMetadata).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', KeyState: 'Enabled' });
    expect(KeyMetadata?.Description).toMatch(/acme user CA/);
    const { Tags } = await client.send(new ListResourceTagsCommand({ KeyId: keyId }));
    expect(Tags).toEqual([
      { TagKey: 'kubeport:ca', TagValue: 'prod-7f3a' },
      { TagKey: 'kubeport:ca-type', TagValue: 'user' },
    ]);
  });

  it('gives the key a policy that denies kms:Sign to every role but the signers, whatever IAM allows them', async () => {
    const keyId = await keysAs('AKIAAUTH').create('host');
    const data = Buffer.from('tbsCertificate');
    // The listed roles sign.
    await expect(keysAs('AKIAAUTH').signer(keyId).sign(data)).resolves.toBeInstanceOf(Uint8Array);
    await expect(keysAs('AKIABOOTSTRAP').signer(keyId).sign(data)).resolves.toBeInstanceOf(Uint8Array);
    // The admin function's role and an account administrator read the public key but may not sign.
    for (const stranger of ['AKIAADMIN', 'AKIAROOTISH']) {
      const signer = keysAs(stranger).signer(keyId);
      await expect(signer.publicKeySpki()).resolves.toBeInstanceOf(Uint8Array);
      const failure = signer.sign(data);
      await expect(failure).rejects.toBeInstanceOf(KmsRequestError);
      await expect(failure).rejects.toMatchObject({ awsError: 'AccessDeniedException', code: 'invalid_config', keyId });
      await expect(failure).rejects.toThrow(/key policy's CA signers/);
    }
  });

  it('writes the same guard statement the stack uses, so a deploy-time key and a rotated key are guarded alike', async () => {
    const keyId = await keysAs('AKIAAUTH').create('user');
    const stored = JSON.parse(kms.keys.get(keyId.split('/').pop()!)!.policy!);
    expect(stored).toEqual(caKeyPolicyDocument(`arn:aws:iam::${account}:root`, [authRole, bootstrapRole]));
    expect(stored.Statement.find((s: { Sid: string }) => s.Sid === CA_SIGN_GUARD_SID)).toMatchObject({
      Effect: 'Deny',
      Action: 'kms:Sign',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [authRole, bootstrapRole] } },
    });
  });

  it('refuses signer roles of another account, which would let a stranger account sign', () => {
    expect(
      () =>
        new KmsSigningKeys(clientAs('AKIAAUTH'), {
          deploymentTag: 't',
          signerRoleArns: [authRole, 'arn:aws:iam::999999999999:role/evil'],
          clusterName: 'acme',
        }),
    ).toThrow(/999999999999/);
    expect(() => new KmsSigningKeys(clientAs('AKIAAUTH'), { deploymentTag: 't', signerRoleArns: [], clusterName: 'acme' })).toThrow(
      /signer role/,
    );
  });

  it('retires a key by scheduling its deletion after 30 days; the key signs no more, and retiring twice is fine', async () => {
    const keys = keysAs('AKIAAUTH');
    const keyId = await keys.create('user');
    await keys.retire(keyId);
    const key = kms.keys.get(keyId.split('/').pop()!)!;
    expect(key.state).toBe('PendingDeletion');
    const days = (key.deletionDate!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    await expect(keys.retire(keyId)).resolves.toBeUndefined();
    await expect(keys.signer(keyId).sign(Buffer.from('x'))).rejects.toMatchObject({ awsError: 'KMSInvalidStateException' });
  });

  it('keeps one signer per key, so the public key is fetched once however often the CAs are re-read', async () => {
    const keys = keysAs('AKIAAUTH');
    const keyId = await keys.create('host');
    const before = kms.calls.get('GetPublicKey') ?? 0;
    for (let i = 0; i < 5; i++) await keys.signer(keyId).sign(Buffer.from(`cert ${i}`));
    expect((kms.calls.get('GetPublicKey') ?? 0) - before).toBe(1);
  });
});

describe('the KMS stand-in', () => {
  it('refuses a caller whose access key it does not know', async () => {
    await expect(clientAs('AKIAUNKNOWN').send(new DescribeKeyCommand({ KeyId: 'x' }))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });
  });

  it('refuses a key policy whose Deny it cannot evaluate, instead of ignoring it', async () => {
    kms.addKey({ id: 'plain' });
    expect(() =>
      kms.addKey({
        id: 'odd',
        policy: JSON.stringify({
          Statement: [{ Effect: 'Deny', Principal: '*', Action: 'kms:Sign', Condition: { StringNotLike: { 'aws:PrincipalArn': 'x' } } }],
        }),
      }),
    ).toThrow(/StringNotLike/);
    expect(() =>
      kms.addKey({ id: 'odd-action', policy: JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: '*', Action: 'kms:Sig*' }] }) }),
    ).toThrow(/kms:Sig\*/);
  });

  it('answers an operation it does not serve the way AWS does', async () => {
    await expect(clientAs('AKIAAUTH').send(new GetKeyPolicyCommand({ KeyId: 'plain' }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
    });
  });
});
