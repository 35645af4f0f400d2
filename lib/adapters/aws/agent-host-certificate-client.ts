// The agent's side of POST /webapi/iam/host-cert: a fresh P-256 key pair each time (the private
// key never leaves the process), the public key sent in a call signed with SigV4 as the task role
// (the default credential chain: the ECS container credentials on Fargate), the certificate and
// the host CAs back. The answer is checked before it is used: it must certify the key just made.
import { isLoopbackHost } from '../../core/loopback.js';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { AGENT_HOST_CERT_ROUTE, type AgentHostCertRequest, type AgentHostCertResponse } from '../../core/agent-host-certificate.js';
import type { Clock } from '../../core/ports.js';
import { type AwsCredentialSource, awsSigV4Signer, defaultAwsCredentialProvider } from '../../platform/aws-sigv4-signer.js';

/** What the agent's HTTPS server is given: its certificate, the key it certifies, and the CAs to present as its chain. */
export interface AgentTlsMaterial {
  certPem: string;
  keyPem: string;
  /** The host CA certificates trusted now, PEM each. */
  hostCas: string[];
  notBefore: Date;
  notAfter: Date;
}

export interface AgentHostCertificateClientOptions {
  /** The control plane's API URL (KUBEPORT_API_URL). https, or http to a loopback address (tests). */
  apiUrl: string;
  /** The API's region (AWS_REGION): SigV4's credential scope. */
  region: string;
  /** @default the default credential chain, asked at each call (task role credentials rotate) */
  credentials?: AwsCredentialSource;
  clock: Clock;
  /** @default 10 s */
  timeoutMs?: number;
}

/** A function that fetches a new certificate each time it is called. */
export type AgentCertificateSource = () => Promise<AgentTlsMaterial>;

export function agentHostCertificateClient(options: AgentHostCertificateClientOptions): AgentCertificateSource {
  const base = new URL(options.apiUrl);
  const loopback = isLoopbackHost(base.hostname);
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && loopback)) {
    throw new Error(`KUBEPORT_API_URL must be https (the API URL the stack outputs as ApiUrl), not ${base.protocol}//${base.host}`);
  }
  const url = new URL(AGENT_HOST_CERT_ROUTE, base).toString();
  let credentials: Promise<AwsCredentialSource> | undefined;
  return async () => {
    credentials ??= options.credentials ? Promise.resolve(options.credentials) : defaultAwsCredentialProvider();
    const signer = awsSigV4Signer({ region: options.region, credentials: await credentials, clock: options.clock });
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const body: AgentHostCertRequest = { public_key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
    const signed = await signer.sign({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const response = await fetch(signed.url, {
      method: 'POST',
      headers: signed.headers,
      body: signed.body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`the agent certificate was refused: ${response.status} ${refusal(text)}`);
    const answer = JSON.parse(text) as AgentHostCertResponse;
    const cert = new X509Certificate(answer.cert);
    if (!cert.publicKey.equals(publicKey)) throw new Error('the agent certificate answered certifies another key than the one sent');
    return {
      certPem: answer.cert,
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      hostCas: answer.host_cas,
      notBefore: new Date(cert.validFrom),
      notAfter: new Date(cert.validTo),
    };
  };
}

/** The refusal's message: Kubeport's {error: {code, message}}, or API Gateway's own {message}. */
function refusal(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string }; message?: string };
    if (parsed.error) return `${parsed.error.code ?? ''}: ${parsed.error.message ?? ''}`;
    if (parsed.message) return parsed.message;
  } catch {
    // Not JSON: the text itself, shortened.
  }
  return text.slice(0, 300);
}
