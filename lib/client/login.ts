// What tsh login does after the user has answered its prompts: make a key pair here, send only
// the public key, check what comes back, and keep it as the profile.
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { ApiClient, ClientError } from './api-client.js';
import type { Profile, ProfileKeys } from './profile-store.js';
import { safePathPart } from './tsh-config.js';

export interface Ping {
  cluster_name: string;
  server_version: string;
  server_time: string;
  proxy: { kube: { enabled: boolean; public_addr: string } };
  ca: { user: string[]; host: string[] };
  /** How people log in here; proxies from before GitHub login send only `type: 'local'`. */
  auth?: PingAuth;
}

export interface AuthConnector {
  type: 'github' | 'local';
  name: string;
  display?: string;
}

export interface PingAuth {
  /** The default: 'github' when a GitHub connector is configured, else 'local'. */
  type: string;
  /** The default GitHub connector. */
  github?: { name: string; display?: string };
  connectors?: AuthConnector[];
  allow_headless?: boolean;
}

export interface LoginResponse {
  username: string;
  cert: string;
  expires: string;
  roles: string[];
  traits: Record<string, string[]>;
}

export interface KeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
  publicKeyDer: Buffer;
}

export function newKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }),
  };
}

/** The certificate must carry our own key and chain to a user CA that ping announced. */
export function checkIssuedCertificate(certPem: string, keys: KeyPair, ping: Ping): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new ClientError('the proxy sent a malformed certificate; refusing it');
  }
  if (!cert.publicKey.export({ type: 'spki', format: 'der' }).equals(keys.publicKeyDer)) {
    throw new ClientError('the proxy sent a certificate for another key; refusing it');
  }
  const chains = ping.ca.user.some((pem) => {
    const ca = new X509Certificate(pem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  });
  if (!chains) throw new ClientError('the certificate the proxy sent is not signed by the user CA it announced; refusing it');
  return cert;
}

export async function ping(api: ApiClient): Promise<Ping> {
  const answer = await api.call<Ping>('GET', '/webapi/ping');
  if (!answer.ca?.user?.length || !answer.proxy?.kube?.public_addr)
    throw new ClientError('the proxy answered ping without CA certificates or agent address; is --proxy a Kubeport proxy?');
  return answer;
}

export function profileFrom(
  proxy: string,
  pingAnswer: Ping,
  login: LoginResponse,
  cert: X509Certificate,
  keys: KeyPair,
  auth: string,
): { profile: Profile; keys: ProfileKeys } {
  const user = safePathPart(cert.subject.match(/^CN=(.*)$/m)?.[1] ?? '', 'the user name');
  return {
    profile: {
      proxy,
      user,
      cluster: safePathPart(pingAnswer.cluster_name, 'the cluster name'),
      agent: pingAnswer.proxy.kube.public_addr,
      roles: login.roles,
      traits: login.traits,
      expires: new Date(cert.validTo).toISOString(),
      auth,
    },
    keys: {
      certPem: login.cert,
      keyPem: keys.privateKeyPem,
      userCaPem: pingAnswer.ca.user.join('\n'),
      hostCaPem: pingAnswer.ca.host.join('\n'),
    },
  };
}
