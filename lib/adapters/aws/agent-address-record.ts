// agentTopology=economy: no load balancer, one task with a public IP that publishes its own address
// at start. The task learns its public IPv4 from KUBEPORT_PUBLIC_IP_URL (a service that answers
// the caller's address as text), then UPSERTs the A record KUBEPORT_AGENT_DOMAIN_NAME in
// KUBEPORT_HOSTED_ZONE_ID with a short TTL, so a replaced task is reachable within a minute.
import { isLoopbackHost } from '../../core/loopback.js';
import { ChangeResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';

/** Short: after a task is replaced, clients follow the new address within a minute. */
export const AGENT_ADDRESS_TTL_SECONDS = 60;

export interface PublicIpOptions {
  /** Where the address is learned (KUBEPORT_PUBLIC_IP_URL): https only. */
  url: string;
  /** Tests only: an http URL on a loopback address is accepted too. */
  allowLoopbackHttp?: boolean;
  /** @default 5 s */
  timeoutMs?: number;
}

// Ranges no client on the internet can reach the task at (RFC 6890 special-purpose, RFC 6598
// shared/CGNAT, documentation nets): an answer in one means the service saw a NAT or proxy, not us.
const NOT_PUBLIC: [base: string, bits: number, what: string][] = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (carrier-grade NAT, RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation (TEST-NET-1)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function ipv4Number(text: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const parts = match.slice(1).map(Number);
  if (parts.some((part) => part > 255)) return undefined;
  return parts.reduce((sum, part) => sum * 256 + part, 0);
}

/** Why `ip` cannot be the agent's public address, or undefined when it can. */
export function notPublicReason(ip: string): string | undefined {
  const value = ipv4Number(ip);
  if (value === undefined) return 'not an IPv4 address';
  for (const [base, bits, what] of NOT_PUBLIC) {
    const size = 2 ** (32 - bits);
    const start = ipv4Number(base)!;
    if (value >= start && value < start + size) return `${what} (${base}/${bits})`;
  }
  return undefined;
}

/** The task's public IPv4 as the service at `url` sees it; refuses an answer that is not a public IPv4. */
export async function learnPublicIpv4(options: PublicIpOptions): Promise<string> {
  const url = new URL(options.url);
  const loopbackHttp = options.allowLoopbackHttp === true && url.protocol === 'http:' && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new Error(
      `KUBEPORT_PUBLIC_IP_URL must be https (an answer over plain http could be forged on the way), not ${url.protocol}//${url.host}`,
    );
  }
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) });
  } catch (error) {
    throw new Error(
      `could not learn the task's public IPv4 from ${url.origin} (${error instanceof Error ? error.message : String(error)}); ` +
        'the economy agent needs a public IP and a route to the internet',
    );
  }
  const text = (await response.text()).slice(0, 100).trim();
  if (!response.ok) throw new Error(`${url.origin} answered ${response.status} when asked for the task's public IPv4`);
  const why = notPublicReason(text);
  if (why !== undefined) {
    throw new Error(
      `${url.origin} answered ${JSON.stringify(text.slice(0, 45))} as the task's address, which is ${why}: ` +
        'clients could not reach the agent there; give the task a public IP (assignPublicIp) in a public subnet',
    );
  }
  return text;
}

export interface AgentAddressRecordOptions {
  route53: Route53Client;
  /** KUBEPORT_HOSTED_ZONE_ID: `Z…` or `/hostedzone/Z…`. */
  hostedZoneId: string;
  /** KUBEPORT_AGENT_DOMAIN_NAME: the name tsh learns from ping. */
  domainName: string;
}

/** UPSERTs the agent's A record to `ip`; returns Route 53's change id. */
export async function publishAgentAddress(options: AgentAddressRecordOptions, ip: string): Promise<string> {
  const why = notPublicReason(ip);
  if (why !== undefined) throw new Error(`refusing to publish ${ip} for ${options.domainName}: it is ${why}`);
  const zoneId = options.hostedZoneId.replace(/^\/hostedzone\//, '');
  const answer = await options.route53
    .send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Comment: 'Kubeport agent (economy topology): the running task publishes its public address',
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: options.domainName,
                Type: 'A',
                TTL: AGENT_ADDRESS_TTL_SECONDS,
                ResourceRecords: [{ Value: ip }],
              },
            },
          ],
        },
      }),
    )
    .catch((error: unknown) => {
      throw new Error(
        `Route 53 refused to set ${options.domainName} A ${ip} in hosted zone ${zoneId}: ${route53Reason(error)}; ` +
          'the task role needs route53:ChangeResourceRecordSets on that zone for that name (the stack grants it)',
        { cause: error },
      );
    });
  return answer.ChangeInfo?.Id ?? '';
}

/** The error's code and message; for codes Route 53's model does not name (AccessDenied), the SDK leaves the message in the parsed body. */
function route53Reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const body = (error as { Error?: { Message?: string } }).Error;
  const message = error.message && error.message !== 'UnknownError' ? error.message : (body?.Message ?? error.message);
  return `${error.name}: ${message}`;
}

/** At the economy agent's start: learn the public IPv4, publish it; returns it. */
export async function publishOwnAddress(options: AgentAddressRecordOptions & { publicIp: PublicIpOptions }): Promise<string> {
  const ip = await learnPublicIpv4(options.publicIp);
  await publishAgentAddress(options, ip);
  return ip;
}
