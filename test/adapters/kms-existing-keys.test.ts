// The CA keys of the admin function and the CA bootstrap: signers of the keys the stack made, one
// per key; creating or retiring a key is refused (only the auth function runs rotations).
import { createPublicKey, verify } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKmsClient } from '../../lib/adapters/aws/clients.js';
import { KmsExistingKeys } from '../../lib/adapters/aws/kms-existing-keys.js';
import { startKmsStandIn, type KmsStandIn } from '../support/kms-stand-in.js';

describe('KmsExistingKeys', () => {
  let kms: KmsStandIn;
  let client: KMSClient;

  beforeAll(async () => {
    kms = await startKmsStandIn({ keys: [{ id: 'user-ca' }] });
    client = makeKmsClient({ region: kms.region, endpoint: kms.url, credentials: { accessKeyId: 'AKIDBOOT', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    client.destroy();
    await kms.close();
  });

  it("signs with an existing key, fetching its public key once however often it is asked for the key's signer", async () => {
    const keys = new KmsExistingKeys(client, 'CA bootstrap');
    const arn = kms.keys.get('user-ca')!.arn;
    expect(keys.signer(arn)).toBe(keys.signer(arn));
    const publicKey = createPublicKey({ key: Buffer.from(await keys.signer(arn).publicKeySpki()), format: 'der', type: 'spki' });
    const signature = await keys.signer(arn).sign(Buffer.from('tbs'));
    expect(verify('sha256', Buffer.from('tbs'), { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
    await keys.signer(arn).publicKeySpki();
    expect(kms.calls.get('GetPublicKey')).toBe(1);
  });

  it('refuses to create or retire a key, saying which function runs rotations', async () => {
    const keys = new KmsExistingKeys(client, 'admin function');
    await expect(keys.create()).rejects.toThrow('the admin function never creates CA keys; the auth function runs CA rotations');
    await expect(keys.retire()).rejects.toThrow('never retires CA keys');
    expect(kms.calls.get('CreateKey') ?? 0).toBe(0);
    expect(kms.calls.get('ScheduleKeyDeletion') ?? 0).toBe(0);
  });
});
