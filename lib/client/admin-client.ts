// The API client tctl signs with: the admin identity npm start wrote (or --identity), checked
// before the first call, and the proxy's audience from ping.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readPrivateFile } from '../platform/safe-file.js';
import { apiAudience } from '../core/signed-request.js';
import type { SigningIdentity } from './api-client.js';
import type { CommandDeps } from './commands/deps.js';
import type { TctlConfig } from './tctl-config.js';
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
        : `no admin identity in ${config.dataDir}; pass --data-dir with the .kubeport directory of the place where npm start runs (it shows the flag at start), or start Kubeport with npm start`,
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
  const file = loadIdentity(config, deps.clock.now());
  const identity: SigningIdentity = { certPem: file.cert, keyPem: file.key };
  const proxy = config.proxy ?? file.proxy;
  const ping = await deps.api(proxy).call<{ cluster_name: string }>('GET', '/webapi/ping');
  const api = deps.api(proxy, apiAudience(ping.cluster_name));
  return { proxy, call: (method, path, body) => api.call(method, path, body, identity) };
}
