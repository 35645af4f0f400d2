// A secret read from Secrets Manager (the GitHub OAuth app's client secret), kept in memory for a
// few minutes so a login costs no Secrets Manager call. When GitHub says the secret is wrong, the
// caller asks for refresh(): a rotated secret is then used at once, not after the cache expires.
// The value never appears in an error or a log line.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KubeportError } from '../../core/errors.js';
import type { Clock } from '../../core/ports.js';

export const SECRET_CACHE_MS = 5 * 60_000;
/**
 * refresh() reads again at most this often after its last read: a flood of bad logins must not
 * become a flood of paid reads. The first refresh after value() read is never held back, so a
 * rotation right after a cold start still works at the first refused login.
 */
export const MIN_REFRESH_INTERVAL_MS = 10_000;

export interface SecretsManagerSecretOptions {
  clock: Clock;
  /** @default SECRET_CACHE_MS */
  cacheMs?: number;
  /** @default MIN_REFRESH_INTERVAL_MS */
  minRefreshIntervalMs?: number;
  /** The field that holds the value when the secret is a JSON object. @default 'client_secret' */
  jsonField?: string;
}

export class SecretsManagerSecret {
  private cached?: { value: string; readAt: number };
  /** When refresh() last read; value()'s reads do not count, they were not asked for by a refusal. */
  private refreshedAt?: number;
  private reading?: Promise<string>;

  constructor(
    private readonly client: SecretsManagerClient,
    /** The secret's name or ARN. */
    readonly secretId: string,
    private readonly options: SecretsManagerSecretOptions,
  ) {}

  /** The value, from memory while it is fresh. */
  async value(): Promise<string> {
    const now = this.options.clock.now().getTime();
    if (this.cached && now - this.cached.readAt < (this.options.cacheMs ?? SECRET_CACHE_MS)) return this.cached.value;
    return this.read();
  }

  /** Reads the secret again now (unless it was read moments ago), e.g. after GitHub refused the one in memory. */
  async refresh(): Promise<string> {
    const now = this.options.clock.now().getTime();
    const floor = this.options.minRefreshIntervalMs ?? MIN_REFRESH_INTERVAL_MS;
    // Refreshes that arrive while a read is under way share it.
    if (this.reading) return this.reading;
    if (this.cached && this.refreshedAt !== undefined && now - this.refreshedAt < floor) return this.cached.value;
    this.refreshedAt = now;
    return this.read();
  }

  /** One read at a time: callers that arrive while it is under way share it. */
  private read(): Promise<string> {
    if (!this.reading) {
      this.reading = this.fetch()
        .then((value) => {
          this.cached = { value, readAt: this.options.clock.now().getTime() };
          return value;
        })
        .finally(() => {
          this.reading = undefined;
        });
    }
    return this.reading;
  }

  private async fetch(): Promise<string> {
    let answer;
    try {
      answer = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    } catch (error) {
      throw secretsManagerError(error, this.secretId);
    }
    const text = answer.SecretString;
    if (text === undefined) {
      throw new KubeportError('invalid_config', `secret ${this.secretId} holds binary data; store the value as a string (SecretString)`);
    }
    return this.parse(text);
  }

  private parse(text: string): string {
    const field = this.options.jsonField ?? 'client_secret';
    const trimmed = text.trim();
    let value = trimmed;
    if (trimmed.startsWith('{')) {
      let document: unknown;
      try {
        document = JSON.parse(trimmed);
      } catch {
        // No cause attached: JSON.parse's message quotes the text, which is the secret.
        throw new KubeportError(
          'invalid_config',
          `secret ${this.secretId} starts with { but is not JSON; store the plain value or {"${field}": "..."}`,
        );
      }
      const member = (document as Record<string, unknown>)[field];
      if (typeof member !== 'string') {
        throw new KubeportError(
          'invalid_config',
          `secret ${this.secretId} is a JSON object without a string "${field}"; store {"${field}": "..."} or the plain value`,
        );
      }
      value = member.trim();
    }
    if (value === '') throw new KubeportError('invalid_config', `secret ${this.secretId} is empty; put the value in it`);
    return value;
  }
}

function secretsManagerError(error: unknown, secretId: string): KubeportError {
  const name = error instanceof Error ? error.name : 'UnknownError';
  const said = `Secrets Manager refused to read secret ${secretId} (${name})`;
  switch (name) {
    case 'ResourceNotFoundException':
      return new KubeportError(
        'invalid_config',
        `${said}; create it: aws secretsmanager create-secret --name ${secretId} --secret-string <value>`,
        {
          cause: error,
        },
      );
    case 'AccessDeniedException':
      return new KubeportError(
        'invalid_config',
        `${said}; this function's role may not read it: deploy the stack again so it grants secretsmanager:GetSecretValue`,
        {
          cause: error,
        },
      );
    case 'DecryptionFailure':
      return new KubeportError('invalid_config', `${said}; the secret's KMS key does not let this function's role decrypt it`, {
        cause: error,
      });
    case 'ThrottlingException':
    case 'InternalServiceError':
      return new KubeportError('unavailable', `${said}; try again shortly`, { cause: error });
    default:
      return new KubeportError('internal', said, { cause: error });
  }
}
