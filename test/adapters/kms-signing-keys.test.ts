import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetPublicKeyCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_SIGN_GUARD_SID, caKeyPolicyDocument } from '../../lib/adapters/aws/ca-key-policy.js';
import { makeKmsClient } from '../../lib/adapters/aws/clients.js';
import { KmsRequestError } from '../../lib/adapters/aws/kms-errors.js';
import { KmsSigningKeys } from '../../lib/adapters/aws/kms-signing-keys.js';
import { policyAllows } from '../support/kms-policy-evaluation.js';
import { startKmsStandIn, type KmsStandIn } from '../support/kms-stand-in.js';

const account = '123456789012';
const authRole = `arn:aws:iam::${account}:role/kubeport-auth`;
const bootstrapRole = `arn:aws:iam::${account}:role/kubeport-ca-bootstrap`;
const adminRole = `arn:aws:iam::${account}:role/kubeport-admin`;
const administrator = `arn:aws:iam::${account}:role/Administrator`;
// Another Kubeport deployment in the same account: its auth role has the same IAM policy as ours.
const otherStackAuthRole = `arn:aws:iam::${account}:role/other-kubeport-auth`;
const someApp = `arn:aws:iam::${account}:role/some-app`;

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
    principals: {
      AKIAAUTH: authRole,
      AKIABOOTSTRAP: bootstrapRole,
      AKIAADMIN: adminRole,
      AKIAROOTISH: administrator,
      AKIAOTHERSTACK: otherStackAuthRole,
      AKIASOMEAPP: someApp,
    },
    // IAM as the stack writes it: the auth roles may create keys and nothing else on CA keys; the
    // account administrator has kms:*; some application of the account has nothing of KMS.
    iam: {
      [authRole]: ['kms:CreateKey'],
      [otherStackAuthRole]: ['kms:CreateKey'],
      [administrator]: ['kms:*'],
    },
  });
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await kms.close();
});

const keysAs = (accessKeyId: string) =>
  new KmsSigningKeys(clientAs(accessKeyId), {
    deploymentTag: 'prod-7f3a',
    signerRoleArns: [authRole, bootstrapRole],
    readerRoleArns: [adminRole],
    clusterName: 'acme',
  });

describe('KmsSigningKeys', () => {
  it('creates an untagged P-256 signing key whose description carries the deployment and the CA type', async () => {
    const keys = keysAs('AKIAAUTH');
    const keyId = await keys.create('user');
    expect(keyId).toMatch(new RegExp(`^arn:aws:kms:${kms.region}:${account}:key/`));
    const client = clientAs('AKIAAUTH');
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(KeyMetadata).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', KeyState: 'Enabled' });
    expect(KeyMetadata?.Description).toBe(
      'Kubeport user CA key (kubeport:ca=prod-7f3a kubeport:ca-type=user), created by a CA rotation of cluster acme',
    );
    // Tagging at creation would need kms:TagResource, which the auth role does not have.
    const { Tags } = await clientAs('AKIAROOTISH').send(new ListResourceTagsCommand({ KeyId: keyId }));
    expect(Tags).toEqual([]);
  });

  it("gets past KMS's lockout check without kms:PutKeyPolicy: it bypasses the check, and the account root keeps kms:*", async () => {
    const policy = JSON.stringify(caKeyPolicyDocument(`arn:aws:iam::${account}:root`, { signers: [authRole], readers: [adminRole] }));
    const create = (bypass: boolean) =>
      clientAs('AKIAAUTH').send(
        new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Policy: policy, BypassPolicyLockoutSafetyCheck: bypass }),
      );
    // The policy does not let the auth role change it: KMS refuses it unless the check is bypassed.
    await expect(create(false)).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
    await expect(create(true)).resolves.toMatchObject({ KeyMetadata: { KeySpec: 'ECC_NIST_P256' } });
    // And the key stays manageable: the account's administrator (IAM kms:*) may change its policy.
    const keyId = await keysAs('AKIAAUTH').create('user');
    const administered = kms.keys.get(keyId.split('/').pop()!)!.policy!;
    expect(policyAllows(administered, 'kms:PutKeyPolicy', administrator, () => true)).toBe(true);
    expect(policyAllows(administered, 'kms:PutKeyPolicy', authRole, (action) => action === 'kms:CreateKey')).toBe(false);
  });

  it('cannot tag the keys it creates: CreateKey with Tags needs kms:TagResource, which the auth role lacks', async () => {
    await expect(
      clientAs('AKIAAUTH').send(
        new CreateKeyCommand({
          KeySpec: 'ECC_NIST_P256',
          KeyUsage: 'SIGN_VERIFY',
          Tags: [{ TagKey: 'kubeport:ca', TagValue: 'prod-7f3a' }],
          BypassPolicyLockoutSafetyCheck: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('kms:TagResource') });
  });

  it('lets the auth role sign with, read and retire a rotated key by its key policy alone, with no IAM grant on it', async () => {
    const keys = keysAs('AKIAAUTH');
    const keyId = await keys.create('user');
    await expect(keys.signer(keyId).sign(Buffer.from('tbsCertificate'))).resolves.toBeInstanceOf(Uint8Array);
    await expect(clientAs('AKIAAUTH').send(new DescribeKeyCommand({ KeyId: keyId }))).resolves.toBeDefined();
    await expect(keys.retire(keyId)).resolves.toBeUndefined();
    expect(kms.keys.get(keyId.split('/').pop()!)!.state).toBe('PendingDeletion');
  });

  it("lets the admin role read a rotated key's public key, and neither sign with it nor retire it", async () => {
    const keyId = await keysAs('AKIAAUTH').create('user');
    const admin = clientAs('AKIAADMIN');
    await expect(admin.send(new GetPublicKeyCommand({ KeyId: keyId }))).resolves.toMatchObject({ KeySpec: 'ECC_NIST_P256' });
    await expect(admin.send(new DescribeKeyCommand({ KeyId: keyId }))).resolves.toBeDefined();
    await expect(
      admin.send(new SignCommand({ KeyId: keyId, Message: Buffer.alloc(32), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(admin.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(kms.keys.get(keyId.split('/').pop()!)!.state).toBe('Enabled');
  });

  it('gives another principal of the account nothing but what its IAM policy gives, and never kms:Sign', async () => {
    const keyId = await keysAs('AKIAAUTH').create('host');
    const digest = { Message: Buffer.alloc(32), MessageType: 'DIGEST' as const, SigningAlgorithm: 'ECDSA_SHA_256' as const };
    // Another Kubeport deployment's auth role (IAM: CreateKey only) and an application with no
    // KMS grant: they may not read, sign with or delete this deployment's CA key.
    for (const stranger of ['AKIAOTHERSTACK', 'AKIASOMEAPP']) {
      const client = clientAs(stranger);
      await expect(client.send(new GetPublicKeyCommand({ KeyId: keyId })), stranger).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
      await expect(client.send(new SignCommand({ KeyId: keyId, ...digest })), stranger).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
      await expect(client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })), stranger).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
    }
    // The account's administrator (IAM kms:*) administers the key through the account root's
    // statement, but the guard still keeps signing to the signers.
    const administratorClient = clientAs('AKIAROOTISH');
    await expect(administratorClient.send(new GetPublicKeyCommand({ KeyId: keyId }))).resolves.toBeDefined();
    await expect(administratorClient.send(new SignCommand({ KeyId: keyId, ...digest }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('explicit deny'),
    });
    expect(kms.keys.get(keyId.split('/').pop()!)!.state).toBe('Enabled');
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
    expect(stored).toEqual(
      caKeyPolicyDocument(`arn:aws:iam::${account}:root`, { signers: [authRole, bootstrapRole], readers: [adminRole] }),
    );
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
          readerRoleArns: [],
          clusterName: 'acme',
        }),
    ).toThrow(/999999999999/);
    expect(
      () =>
        new KmsSigningKeys(clientAs('AKIAAUTH'), {
          deploymentTag: 't',
          signerRoleArns: [authRole],
          readerRoleArns: ['arn:aws:iam::999999999999:role/reader'],
          clusterName: 'acme',
        }),
    ).toThrow(/999999999999/);
    expect(
      () => new KmsSigningKeys(clientAs('AKIAAUTH'), { deploymentTag: 't', signerRoleArns: [], readerRoleArns: [], clusterName: 'acme' }),
    ).toThrow(/signer role/);
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

  it('refuses a key policy whose Deny or Allow it cannot evaluate, instead of ignoring it', async () => {
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
    expect(() =>
      kms.addKey({
        id: 'odd-allow',
        policy: JSON.stringify({
          Statement: [
            { Effect: 'Allow', Principal: { AWS: authRole }, Action: 'kms:Sign', Condition: { Bool: { 'aws:SecureTransport': 'true' } } },
          ],
        }),
      }),
    ).toThrow(/Condition in an Allow/);
  });

  it('answers an operation it does not serve the way AWS does', async () => {
    await expect(clientAs('AKIAAUTH').send(new GetKeyPolicyCommand({ KeyId: 'plain' }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
    });
  });
});
