// The agent's TLS server certificate on AWS: the agent generates a key pair, then signs
// `POST /webapi/iam/host-cert` with SigV4 as its ECS task role (API Gateway's AWS_IAM authorizer
// checks the signature); the auth function issues a host CA certificate for the names the stack
// configured (never names from the request), short-lived, and the agent swaps it in place well
// before it expires.
import { IAM_ROUTES_PREFIX } from './aws-caller.js';

export const AGENT_HOST_CERT_ROUTE = `${IAM_ROUTES_PREFIX}host-cert`;

/** Short: a leaked agent key is useful for at most this long. */
export const AGENT_HOST_CERT_TTL_MS = 2 * 3_600_000;
/** The agent asks again at this fraction of the lifetime, and retries every minute after a failure. */
export const AGENT_HOST_CERT_RENEW_FRACTION = 0.5;

export interface AgentHostCertRequest {
  /** The agent's P-256 public key: SubjectPublicKeyInfo, DER, base64. */
  public_key: string;
}

export interface AgentHostCertResponse {
  /** The certificate, PEM: SANs are exactly the configured names. */
  cert: string;
  /** The host CA certificates trusted now (PEM each), for the agent to present its chain. */
  host_cas: string[];
  /** ISO time the certificate expires. */
  expires: string;
}
