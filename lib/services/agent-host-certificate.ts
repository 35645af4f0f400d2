// Issues the agent's TLS server certificate (POST /webapi/iam/host-cert): only to sessions of the
// one IAM role the stack made for the agent, only for the names the stack configured, only for a
// P-256 key, for AGENT_HOST_CERT_TTL_MS. API Gateway's AWS_IAM authorizer has verified the SigV4
// signature before this runs; this decides whether that verified caller is the agent.
import { X509Certificate, createPublicKey } from 'node:crypto';
import { type AgentHostCertResponse, AGENT_HOST_CERT_TTL_MS } from '../core/agent-host-certificate.js';
import type { AwsCaller } from '../core/aws-caller.js';
import { issueHostCertificate } from '../core/certificate-authority.js';
import { accessDenied, badRequest } from '../core/errors.js';
import { auditEvent } from './audit-events.js';
import type { ServiceDeps } from './deps.js';
import { refuseIfLocked } from './lock-enforcement.js';

/** What the stack configures when it deploys an agent (the auth function's KUBEPORT_AGENT_ROLE_ARN and KUBEPORT_AGENT_HOST_NAMES). */
export interface AgentHostCertConfig {
  /** The agent's task role: arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME. */
  roleArn: string;
  /** The certificate's SANs, exactly: DNS names and IP addresses. */
  hostNames: string[];
}

export interface AgentRole {
  partition: string;
  account: string;
  name: string;
}

/** The parts of a role ARN a session ARN can be compared by (a session's ARN carries no role path); undefined when it is not a role ARN. */
export function parseRoleArn(arn: string): AgentRole | undefined {
  const match = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(arn);
  return match ? { partition: match[1]!, account: match[2]!, name: match[3]! } : undefined;
}

/** The host names split as a certificate names them; a name that is neither a DNS name nor an IP is a configuration error. */
export function certificateNames(hostNames: readonly string[]): { dns: string[]; ips: string[] } {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const name of hostNames) {
    if (isIpAddress(name)) ips.push(name);
    else if (/^(?=.{1,253}$)(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(name))
      dns.push(name.toLowerCase());
    else throw new Error(`agent host name ${JSON.stringify(name)} is neither a DNS name nor an IP address`);
  }
  if (dns.length + ips.length === 0) throw new Error('no agent host names: the certificate would name nothing');
  return { dns, ips };
}

// Dotted IPv4 with each part 0-255, or IPv6 (hex groups and colons, an IPv4 tail allowed).
function isIpAddress(name: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  if (v4) return v4.slice(1).every((part) => Number(part) <= 255);
  return name.includes(':') && /^[0-9a-f:.]+$/i.test(name);
}

/** The agent's public key as the route takes it: SubjectPublicKeyInfo DER, base64, ECDSA P-256 only. */
export function agentPublicKeySpki(base64: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length > 1024)
    throw badRequest('public_key must be a base64 DER SubjectPublicKeyInfo');
  const der = Buffer.from(base64, 'base64');
  let key;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw badRequest('public_key is not a DER SubjectPublicKeyInfo');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw badRequest('public_key must be an ECDSA P-256 key');
  }
  // Re-exported, so the certificate carries the key in its canonical form, not the bytes as sent.
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/**
 * Refuses every verified caller but a session of the agent's role: same partition, account and
 * role name. An IAM user, a federated user, root or another role's session is refused, whatever
 * execute-api permission a policy may give it.
 */
export function requireAgentRole(caller: AwsCaller, callerArn: string, role: AgentRole): void {
  const expected = `arn:${role.partition}:iam::${role.account}:role/${role.name}`;
  if (caller.session === undefined || caller.principal !== expected) {
    throw accessDenied(
      `only sessions of the agent's role (${expected}) get an agent certificate; ${callerArn} is not one: run the agent with its task role`,
    );
  }
}

/** The certificate for an agent already known to be the caller: locks checked, issued, audited. */
export async function issueAgentHostCertificate(
  deps: ServiceDeps,
  config: { hostNames: { dns: string[]; ips: string[] } },
  caller: AwsCaller,
  publicKeySpki: Uint8Array,
): Promise<AgentHostCertResponse> {
  // A lock on the session or on the role (user `aws:arn:…:role/NAME`, as the break-glass route
  // names IAM principals) stops issuance: the agent's certificate lapses within its TTL.
  for (const username of new Set([caller.username, `aws:${caller.principal}`])) {
    await refuseIfLocked(deps, { username, roles: [], traits: {}, accessRequests: [] });
  }
  const hostCa = await deps.cas.signing('host');
  const certPem = await issueHostCertificate(hostCa, publicKeySpki, config.hostNames, AGENT_HOST_CERT_TTL_MS);
  const issued = new X509Certificate(certPem);
  const expires = new Date(issued.validTo).toISOString();
  await deps.audit.emit(
    auditEvent(deps, 'cert.create', {
      user: caller.username,
      cert_type: 'host',
      cert_serial: issued.serialNumber.toLowerCase(),
      identity: {
        user: caller.username,
        roles: [],
        expires,
        principals: [...config.hostNames.dns, ...config.hostNames.ips],
        aws_role: caller.principal,
      },
    }),
  );
  return { cert: certPem, host_cas: await deps.cas.trusted('host'), expires };
}
