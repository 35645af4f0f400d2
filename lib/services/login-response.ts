// The answer every login gives (local, GitHub browser sealed inside the redirect, GitHub headless).
import type { ServiceDeps } from './deps.js';
import type { IssuedCertificate } from './issue-certificate.js';

export interface LoginResponse {
  username: string;
  cert: string;
  expires: string;
  roles: string[];
  traits: Record<string, string[]>;
  ca: { user: string[]; host: string[] };
}

export async function loginResponse(deps: ServiceDeps, issued: IssuedCertificate): Promise<LoginResponse> {
  return {
    username: issued.identity.username,
    cert: issued.certPem,
    expires: issued.expires,
    roles: issued.identity.roles,
    traits: issued.identity.traits,
    ca: { user: await deps.cas.trusted('user'), host: await deps.cas.trusted('host') },
  };
}
