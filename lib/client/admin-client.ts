// The API client tctl signs with, the first that applies: --identity; --aws-iam (break-glass, the
// caller's AWS credentials on the IAM-authorized routes, no Kubeport certificate); the admin
// identity npm start wrote into the data directory; the current tsh login. Checked before the
// first call; the proxy's audience comes from ping.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { AwsCredentialsNotFound, awsSigV4Signer, defaultAwsCredentials } from '../platform/aws-sigv4-signer.js';
import { readPrivateFile } from '../platform/safe-file.js';
import { BREAK_GLASS_POLICY_HINT, IAM_ADMIN_PREFIX, SIGNED_ADMIN_PREFIX } from '../core/aws-caller.js';
import { apiAudience } from '../core/signed-request.js';
import { ClientError, type SigningIdentity } from './api-client.js';
import type { CommandDeps } from './commands/deps.js';
import type { TctlConfig } from './tctl-config.js';
import { IDENTITY_PRECEDENCE, tshLoginIdentity } from './tsh-login-identity.js';
import { UsageError } from './usage-error.js';

interface AdminIdentityFile {
  proxy: string;
  user: string;
  cert: string;
  key: string;
}

export interface AdminClient {
  proxy: string;
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export function loadIdentity(config: TctlConfig, now: Date): AdminIdentityFile {
  const path = config.identityPath;
  if (!existsSync(path)) {
    throw new UsageError(
      config.dataDir === undefined
        ? `identity file ${path} does not exist`
        : `no admin identity in ${config.dataDir}; ${IDENTITY_PRECEDENCE(config.proxy)}`,
    );
  }
  // The data directory's identity must be this account's own: one that came with a checkout
  // would send admin calls, signed, to whatever proxy it names.
  const text = config.dataDir === undefined ? readFileSync(path, 'utf8') : readPrivateFile(path)?.toString('utf8');
  let file: AdminIdentityFile;
  let cert: X509Certificate;
  try {
    file = JSON.parse(text ?? '') as AdminIdentityFile;
    cert = new X509Certificate(file.cert);
    if (typeof file.key !== 'string' || typeof file.proxy !== 'string') throw new Error('missing key or proxy');
  } catch {
    throw new UsageError(
      `${path} is not an admin identity (JSON with proxy, user, cert and key); restart npm start to write a fresh one, or pass the right --identity`,
    );
  }
  if (now.getTime() > new Date(cert.validTo).getTime()) {
    throw new UsageError(`the admin identity in ${path} has expired; restart npm start to issue a fresh one`);
  }
  return file;
}

export async function adminClient(config: TctlConfig, deps: CommandDeps): Promise<AdminClient> {
  if (config.awsIam) return awsIamAdminClient(config.proxy!, config.awsIam.region, deps);
  const { identity, proxy } = signingIdentity(config, deps.clock.now());
  const ping = await deps.api(proxy).call<{ cluster_name: string }>('GET', '/webapi/ping');
  const api = deps.api(proxy, apiAudience(ping.cluster_name));
  return { proxy, call: (method, path, body) => api.call(method, path, body, identity) };
}

function signingIdentity(config: TctlConfig, now: Date): { identity: SigningIdentity; proxy: string } {
  if (config.tshHome !== undefined && !existsSync(config.identityPath)) {
    const login = tshLoginIdentity(config.tshHome, config.proxy, now);
    if (!login) {
      throw new UsageError(
        `no admin identity in ${config.dataDir} and no tsh login in ${config.tshHome}; ${IDENTITY_PRECEDENCE(config.proxy)}`,
      );
    }
    return login;
  }
  const file = loadIdentity(config, now);
  return { identity: { certPem: file.cert, keyPem: file.key }, proxy: config.proxy ?? file.proxy };
}

const HOW_TO_PROVIDE =
  'set AWS_PROFILE to a profile (after aws sso login --profile NAME for an SSO one), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)';

/** The same calls, on the IAM-authorized routes, signed with SigV4. No ping: it needs nothing but IAM and the admin function. */
async function awsIamAdminClient(proxy: string, region: string, deps: CommandDeps): Promise<AdminClient> {
  const credentials = await defaultAwsCredentials().catch((error: unknown) => {
    if (error instanceof AwsCredentialsNotFound) throw new UsageError(`--aws-iam found ${error.message}; ${HOW_TO_PROVIDE}`);
    throw error;
  });
  const signer = awsSigV4Signer({ region, credentials, clock: deps.clock });
  const api = deps.api(proxy);
  return {
    proxy,
    call: async (method, path, body) => {
      if (!path.startsWith(`${SIGNED_ADMIN_PREFIX}/`)) {
        throw new UsageError(
          `--aws-iam reaches only the admin API (${SIGNED_ADMIN_PREFIX}/); this command calls ${path.split('?')[0]}, which takes a Kubeport identity: drop --aws-iam and tsh login as an editor, or pass --identity`,
        );
      }
      try {
        return await api.call(method, `${IAM_ADMIN_PREFIX}${path.slice(SIGNED_ADMIN_PREFIX.length)}`, body, signer);
      } catch (error) {
        // API Gateway answers its own refusals ({"message": ...}, no Kubeport code) before the function runs.
        if (error instanceof ClientError && error.status === 403 && error.serverCode === undefined) {
          throw new ClientError(
            `AWS refused the call signed with access key ${credentials.accessKeyId} (${error.message}): the AWS principal needs ` +
              `execute-api:Invoke on the API's ${IAM_ADMIN_PREFIX}/* routes (${BREAK_GLASS_POLICY_HINT}), and the credentials and this computer's clock must be current`,
            403,
          );
        }
        throw error;
      }
    },
  };
}
