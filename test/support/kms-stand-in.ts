// AWS KMS on loopback, speaking its JSON 1.1 protocol so @aws-sdk/client-kms runs unchanged
// (`endpoint` or AWS_ENDPOINT_URL_KMS). It keeps the rules Kubeport relies on: key specs and
// usages, DIGEST length, message size, encryption context binding, deletion windows, a key pending
// deletion that refuses to sign, a key policy's Deny of kms:Sign by aws:PrincipalArn, its Allow
// statements (outright for a named principal, through IAM for its account), and CreateKey's
// policy lockout check. IAM is modelled only as a list of actions each principal may do on any key
// (`iam`); without it, IAM allows everything, so only what a key policy denies or leaves to no one
// is refused. The caller is told by the access key id of the SigV4 Credential (signatures are not
// checked: the SigV4-verifying stand-in is the break-glass route's), mapped to a principal ARN by the test.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import {
  AwsJsonError,
  optionalString,
  requiredBlob,
  requiredString,
  startAwsJsonStandIn,
  injectedFailures,
  type AwsJsonCall,
  type AwsJsonHandlers,
} from './aws-json-stand-in.js';
import { signDigest, verifyDigest } from './p256-digest-ecdsa.js';
import { defaultKeyPolicy, policyAllows, principalDenied, validatePolicy } from './kms-policy-evaluation.js';

export type StandInKeySpec = 'ECC_NIST_P256' | 'SYMMETRIC_DEFAULT';
export type StandInKeyUsage = 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';

export interface StandInKey {
  id: string;
  arn: string;
  spec: StandInKeySpec;
  usage: StandInKeyUsage;
  description: string;
  /** The key policy document as given (JSON text); undefined: the default policy, which denies nothing. */
  policy?: string;
  tags: { TagKey: string; TagValue: string }[];
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
  createdAt: Date;
  deletionDate?: Date;
  /** P-256 keys. */
  privateKey?: KeyObject;
  /** Symmetric keys: the AES-256-GCM key behind Encrypt/Decrypt. */
  secret?: Buffer;
}

export interface PreloadedKey {
  id: string;
  spec?: StandInKeySpec;
  description?: string;
  policy?: string;
  tags?: Record<string, string>;
  /** A P-256 key to hold instead of a fresh one. */
  privateKey?: KeyObject;
}

export interface KmsStandInOptions {
  /** @default 'us-east-1' */
  region?: string;
  /** @default '123456789012' */
  accountId?: string;
  /**
   * Access key id → the caller's principal ARN (what aws:PrincipalArn is). When given, an access
   * key id not in it is refused as AWS refuses an unknown key; when not, a caller is the IAM user
   * named by its access key id.
   */
  principals?: Record<string, string>;
  /**
   * What IAM lets each principal (by ARN) do, as KMS actions (`kms:Sign`, `kms:*`), on every key
   * and for CreateKey. A principal not in it gets nothing from IAM; the account root gets all.
   * @default IAM allows every principal everything (only key policies restrict)
   */
  iam?: Record<string, readonly string[]>;
  keys?: PreloadedKey[];
}

export interface KmsStandIn {
  url: string;
  region: string;
  accountId: string;
  /** Every key by its id; tests may change a key's state. */
  keys: Map<string, StandInKey>;
  /** Requests per operation (`Sign`, `GetPublicKey`...), failed ones included. */
  calls: Map<string, number>;
  /** Adds a key with a chosen id (the stack's CA keys). */
  addKey(key: PreloadedKey): StandInKey;
  /** The next `count` calls of `operation` fail with this AWS error type (ThrottlingException...). */
  failNext(operation: string, errorType: string, count?: number): void;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 4096;
const MAX_PLAINTEXT_BYTES = 4096;
const CIPHERTEXT_MAGIC = Buffer.from('kms-stand-in-v1:');
const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

export async function startKmsStandIn(options: KmsStandInOptions = {}): Promise<KmsStandIn> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const keys = new Map<string, StandInKey>();
  const failures = injectedFailures();
  const arnPrefix = `arn:aws:kms:${region}:${accountId}:key/`;

  const addKey = (preload: PreloadedKey & { usage?: StandInKeyUsage; tagList?: StandInKey['tags'] }): StandInKey => {
    const spec = preload.spec ?? 'ECC_NIST_P256';
    if (preload.policy !== undefined) validatePolicy(preload.policy);
    const key: StandInKey = {
      id: preload.id,
      arn: `${arnPrefix}${preload.id}`,
      spec,
      usage: preload.usage ?? (spec === 'ECC_NIST_P256' ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT'),
      description: preload.description ?? '',
      ...(preload.policy !== undefined ? { policy: preload.policy } : {}),
      tags: preload.tagList ?? Object.entries(preload.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      state: 'Enabled',
      createdAt: new Date(),
      ...(spec === 'ECC_NIST_P256'
        ? { privateKey: preload.privateKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }
        : { secret: randomBytes(32) }),
    };
    keys.set(key.id, key);
    return key;
  };
  for (const key of options.keys ?? []) addKey(key);

  const principalOf = (accessKeyId: string): string => {
    if (!options.principals) return `arn:aws:iam::${accountId}:user/${accessKeyId}`;
    const principal = Object.hasOwn(options.principals, accessKeyId) ? options.principals[accessKeyId] : undefined;
    if (principal === undefined)
      throw new AwsJsonError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    return principal;
  };

  const iamAllows = (principal: string) => (action: string) => {
    if (!options.iam || principal === `arn:aws:iam::${accountId}:root`) return true;
    const granted = Object.hasOwn(options.iam, principal) ? options.iam[principal]! : [];
    return granted.some((allowed) => allowed === 'kms:*' || allowed.toLowerCase() === action.toLowerCase());
  };
  const notAuthorized = (principal: string, action: string, resource: string, why: string) =>
    new AwsJsonError('AccessDeniedException', `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} ${why}`);

  const findKey = (keyId: string): StandInKey => {
    const id = keyId.startsWith('arn:') ? (keyId.startsWith(arnPrefix) ? keyId.slice(arnPrefix.length) : undefined) : keyId;
    const key = id === undefined ? undefined : keys.get(id);
    if (!key) throw new AwsJsonError('NotFoundException', `Key '${keyId.startsWith('arn:') ? keyId : arnPrefix + keyId}' does not exist`);
    return key;
  };

  /** The key the request names, once its policy (and IAM, where the policy delegates to it) lets the caller do `action`. */
  const allowedKey = (call: AwsJsonCall, action: string): StandInKey => {
    const key = findKey(requiredString(call.body, 'KeyId'));
    const principal = principalOf(call.accessKeyId);
    const policy = key.policy ?? defaultKeyPolicy(accountId);
    if (principalDenied(policy, action, principal))
      throw notAuthorized(principal, action, key.arn, 'with an explicit deny in a resource-based policy');
    if (!policyAllows(policy, action, principal, iamAllows(principal)))
      throw notAuthorized(
        principal,
        action,
        key.arn,
        'because no resource-based policy allows it, nor an identity-based policy it delegates to',
      );
    return key;
  };

  /** An allowed key that is enabled and made for `usage`. */
  const usableKey = (call: AwsJsonCall, action: string, usage: StandInKeyUsage): StandInKey => {
    const key = allowedKey(call, action);
    if (key.state === 'PendingDeletion') throw new AwsJsonError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    if (key.state === 'Disabled') throw new AwsJsonError('DisabledException', `${key.arn} is disabled.`);
    if (key.usage !== usage)
      throw new AwsJsonError('InvalidKeyUsageException', `${key.arn} key usage is ${key.usage} which is not valid for ${action}.`);
    return key;
  };

  const metadata = (key: StandInKey) => ({
    AWSAccountId: accountId,
    KeyId: key.id,
    Arn: key.arn,
    CreationDate: key.createdAt.getTime() / 1000,
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.usage,
    KeyState: key.state,
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.spec,
    KeySpec: key.spec,
    MultiRegion: false,
    ...(key.deletionDate ? { DeletionDate: key.deletionDate.getTime() / 1000 } : {}),
    ...(key.spec === 'ECC_NIST_P256' ? { SigningAlgorithms: [SIGNING_ALGORITHM] } : { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }),
  });

  /** The message to sign or verify as a digest; RAW messages are hashed here, as KMS does. */
  const digestOf = (body: Record<string, unknown>): Buffer => {
    const algorithm = requiredString(body, 'SigningAlgorithm');
    if (algorithm !== SIGNING_ALGORITHM) {
      throw new AwsJsonError('InvalidKeyUsageException', `Signing algorithm ${algorithm} is not valid for key spec ECC_NIST_P256.`);
    }
    const message = requiredBlob(body, 'Message');
    if (message.length === 0 || message.length > MAX_MESSAGE_BYTES) {
      throw new AwsJsonError(
        'ValidationException',
        "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
      );
    }
    const messageType = optionalString(body, 'MessageType') ?? 'RAW';
    if (messageType === 'RAW') return createHash('sha256').update(message).digest();
    if (messageType !== 'DIGEST') throw new AwsJsonError('ValidationException', `MessageType ${messageType} is not RAW or DIGEST`);
    if (message.length !== 32)
      throw new AwsJsonError('ValidationException', `Digest is invalid length for algorithm ${SIGNING_ALGORITHM}.`);
    return message;
  };

  const encryptionContext = (body: Record<string, unknown>): Buffer => {
    const context = body.EncryptionContext ?? {};
    if (
      typeof context !== 'object' ||
      context === null ||
      Array.isArray(context) ||
      Object.values(context).some((v) => typeof v !== 'string')
    ) {
      throw new AwsJsonError('ValidationException', 'EncryptionContext must be a map of strings');
    }
    // Order-independent, as KMS's binding is.
    return Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  };

  const operations: AwsJsonHandlers = {
    CreateKey: (call) => {
      const spec = optionalString(call.body, 'KeySpec') ?? 'SYMMETRIC_DEFAULT';
      const usage = optionalString(call.body, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
      const valid = (spec === 'ECC_NIST_P256' && usage === 'SIGN_VERIFY') || (spec === 'SYMMETRIC_DEFAULT' && usage === 'ENCRYPT_DECRYPT');
      if (!valid)
        throw new AwsJsonError(
          'ValidationException',
          `the stand-in creates ECC_NIST_P256/SIGN_VERIFY and SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT keys, not ${spec}/${usage}`,
        );
      const origin = optionalString(call.body, 'Origin') ?? 'AWS_KMS';
      if (origin !== 'AWS_KMS')
        throw new AwsJsonError('ValidationException', `the stand-in creates key material itself (AWS_KMS), not ${origin}`);
      const tags = call.body.Tags ?? [];
      if (!Array.isArray(tags) || tags.some((tag) => typeof tag?.TagKey !== 'string' || typeof tag?.TagValue !== 'string')) {
        throw new AwsJsonError('ValidationException', 'Tags must be a list of {TagKey, TagValue}');
      }
      const principal = principalOf(call.accessKeyId);
      const iam = iamAllows(principal);
      // CreateKey names no key: only IAM decides, and tagging at creation is kms:TagResource too.
      if (!iam('kms:CreateKey')) throw notAuthorized(principal, 'kms:CreateKey', '*', 'because no identity-based policy allows it');
      if (tags.length > 0 && !iam('kms:TagResource'))
        throw notAuthorized(principal, 'kms:TagResource', '*', 'because no identity-based policy allows it');
      const policy = optionalString(call.body, 'Policy');
      if (policy !== undefined) {
        try {
          validatePolicy(policy);
        } catch (error) {
          throw new AwsJsonError('MalformedPolicyDocumentException', (error as Error).message);
        }
        // KMS's lockout check: unless bypassed, the new policy must let the caller change it later.
        if (call.body.BypassPolicyLockoutSafetyCheck !== true && !policyAllows(policy, 'kms:PutKeyPolicy', principal, iam)) {
          throw new AwsJsonError(
            'MalformedPolicyDocumentException',
            'The new key policy will not allow you to update the key policy in the future.',
          );
        }
      }
      const key = addKey({
        id: randomUUID(),
        spec: spec as StandInKeySpec,
        usage: usage as StandInKeyUsage,
        description: optionalString(call.body, 'Description') ?? '',
        ...(policy !== undefined ? { policy } : {}),
        tagList: tags.map((tag: { TagKey: string; TagValue: string }) => ({ TagKey: tag.TagKey, TagValue: tag.TagValue })),
      });
      return { KeyMetadata: metadata(key) };
    },
    DescribeKey: (call) => ({ KeyMetadata: metadata(allowedKey(call, 'kms:DescribeKey')) }),
    GetPublicKey: (call) => {
      const key = usableKey(call, 'kms:GetPublicKey', 'SIGN_VERIFY');
      const der = createPublicKey(key.privateKey!).export({ type: 'spki', format: 'der' });
      return {
        KeyId: key.arn,
        PublicKey: der.toString('base64'),
        CustomerMasterKeySpec: key.spec,
        KeySpec: key.spec,
        KeyUsage: key.usage,
        SigningAlgorithms: [SIGNING_ALGORITHM],
      };
    },
    Sign: (call) => {
      const key = usableKey(call, 'kms:Sign', 'SIGN_VERIFY');
      const signature = signDigest(key.privateKey!, digestOf(call.body));
      return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: SIGNING_ALGORITHM };
    },
    Verify: (call) => {
      const key = usableKey(call, 'kms:Verify', 'SIGN_VERIFY');
      if (!verifyDigest(key.privateKey!, digestOf(call.body), requiredBlob(call.body, 'Signature'))) {
        throw new AwsJsonError('KMSInvalidSignatureException', 'Signature is not valid.');
      }
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: SIGNING_ALGORITHM };
    },
    Encrypt: (call) => {
      const key = usableKey(call, 'kms:Encrypt', 'ENCRYPT_DECRYPT');
      const plaintext = requiredBlob(call.body, 'Plaintext');
      if (plaintext.length === 0 || plaintext.length > MAX_PLAINTEXT_BYTES) {
        throw new AwsJsonError(
          'ValidationException',
          "Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and 4096",
        );
      }
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key.secret!, iv);
      cipher.setAAD(encryptionContext(call.body));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const id = Buffer.from(key.id);
      // Opaque to callers, like KMS's: the key it needs is inside, so Decrypt takes no KeyId.
      const blob = Buffer.concat([CIPHERTEXT_MAGIC, Buffer.of(id.length), id, iv, cipher.getAuthTag(), body]);
      return { KeyId: key.arn, CiphertextBlob: blob.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },
    Decrypt: (call) => {
      const blob = requiredBlob(call.body, 'CiphertextBlob');
      const invalid = () => new AwsJsonError('InvalidCiphertextException', '');
      if (!blob.subarray(0, CIPHERTEXT_MAGIC.length).equals(CIPHERTEXT_MAGIC)) throw invalid();
      let at = CIPHERTEXT_MAGIC.length;
      const idLength = blob[at] ?? 0;
      const id = blob.subarray(at + 1, at + 1 + idLength).toString();
      at += 1 + idLength;
      if (blob.length < at + 12 + 16) throw invalid();
      const named = optionalString(call.body, 'KeyId');
      if (!keys.has(id)) throw invalid();
      const key = usableKey({ ...call, body: { ...call.body, KeyId: id } }, 'kms:Decrypt', 'ENCRYPT_DECRYPT');
      if (named !== undefined && findKey(named) !== key)
        throw new AwsJsonError(
          'IncorrectKeyException',
          'The key ID in the request does not identify a CMK that can perform this operation.',
        );
      const decipher = createDecipheriv('aes-256-gcm', key.secret!, blob.subarray(at, at + 12));
      decipher.setAuthTag(blob.subarray(at + 12, at + 28));
      decipher.setAAD(encryptionContext(call.body));
      try {
        const plaintext = Buffer.concat([decipher.update(blob.subarray(at + 28)), decipher.final()]);
        return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } catch {
        throw invalid();
      }
    },
    ScheduleKeyDeletion: (call) => {
      const key = allowedKey(call, 'kms:ScheduleKeyDeletion');
      const days = call.body.PendingWindowInDays ?? 30;
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 7 || days > 30) {
        throw new AwsJsonError(
          'ValidationException',
          "Value at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30",
        );
      }
      if (key.state === 'PendingDeletion') throw new AwsJsonError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
      key.state = 'PendingDeletion';
      key.deletionDate = new Date(Date.now() + days * 86_400_000);
      return { KeyId: key.arn, DeletionDate: key.deletionDate.getTime() / 1000, KeyState: key.state, PendingWindowInDays: days };
    },
    ListResourceTags: (call) => ({ Tags: allowedKey(call, 'kms:ListResourceTags').tags, Truncated: false }),
  };
  const standIn = await startAwsJsonStandIn('TrentService', operations, {
    before: (operation, accessKeyId) => {
      principalOf(accessKeyId);
      failures.before(operation);
    },
  });

  return {
    url: standIn.url,
    region,
    accountId,
    keys,
    calls: standIn.calls,
    addKey: (key) => addKey(key),
    failNext: failures.failNext,
    close: standIn.close,
  };
}
