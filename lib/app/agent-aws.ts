// The agent on AWS (the Fargate task, `npm run agent`): the same stores, audit and recordings as
// the functions, its clusters from EKS, its TLS certificate from the host CA through the
// IAM-authorized host-cert route, all signed with the task role from the SDK's default chain.
// Every client resolves its endpoint itself, so AWS_ENDPOINT_URL_<SERVICE> reaches loopback
// stand-ins with nothing of ours in between.
import { hostname } from 'node:os';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { createAgent } from '../../agent/server.js';
import { ClusterHealthChecks } from '../../agent/cluster-health-checks.js';
import { probeCluster } from '../../agent/cluster-health-probe.js';
import { KubeportError } from '../core/errors.js';
import type { Clock, Random } from '../core/ports.js';
import { storedTrustedCertificates } from '../services/cert-authorities.js';
import { CertificateRenewal } from '../services/agent-certificate-renewal.js';
import { ClusterDiscoveryLoop, ensureConfiguredClusters } from '../services/cluster-discovery-sync.js';
import { type AgentTlsMaterial, agentHostCertificateClient } from '../adapters/aws/agent-host-certificate-client.js';
import { type CallerRole, callerRole } from '../adapters/aws/caller-role.js';
import { publishOwnAddress } from '../adapters/aws/agent-address-record.js';
import { makeDynamoClient, makeEksClient, makeRoute53Client, makeS3Client, makeStsClient } from '../adapters/aws/clients.js';
import { DynamoAuditLog } from '../adapters/aws/dynamo-audit-log.js';
import { DynamoResourceStore } from '../adapters/aws/dynamo-resource-store.js';
import { EksClusterDirectory } from '../adapters/aws/eks-cluster-directory.js';
import type { AwsCredentialProvider } from '../adapters/aws/eks-token.js';
import { S3AuditArchive } from '../adapters/aws/s3-audit-archive.js';
import { S3RecordingStore } from '../adapters/aws/s3-recording-store.js';
import { TaggedEksClusters, parseDiscoveryTag } from '../adapters/aws/tagged-eks-clusters.js';
import { systemTimers } from '../adapters/system.js';
import type { AgentEnvironment } from './agent-environment.js';
import { agentStoreViews } from './agent-store-views.js';
import { startSpooledAuditWriter } from './spooled-audit-writer.js';

export interface AgentOnAws {
  /** Where kubectl connects. */
  address: { host: string; port: number };
  /** The task role, as access entries and health fixes name it. */
  role: CallerRole;
  /** Clusters registered at start from KUBEPORT_EKS_CLUSTERS. */
  configured: string[];
  /** Economy: the public IPv4 published under KUBEPORT_AGENT_DOMAIN_NAME. */
  published?: { name: string; ip: string };
  /** SIGTERM: no new connections, open streams run until `deadlineMs`, then end with a message. */
  drain(deadlineMs: number, onProgress: (message: string) => void): Promise<void>;
  /** Stops the background rounds, writes the audit events held, closes the clients. */
  close(): Promise<void>;
}

export interface AgentOnAwsDeps {
  /** The process environment: the SDK's own variables (AWS_ENDPOINT_URL_STS) are read here. */
  env: Record<string, string | undefined>;
  clock: Clock;
  random: Random;
  log: (message: string) => void;
}

/** The agent could not start: one line saying what failed and what to do. */
export class AgentStartError extends KubeportError {
  constructor(message: string, cause?: unknown) {
    super('invalid_config', message, cause === undefined ? undefined : { cause });
    this.name = 'AgentStartError';
  }
}

/** What the writer holds at SIGTERM goes to the table within this, else to the spool on the task's disk. */
const AUDIT_FLUSH_MS = 5_000;

export async function startAgentOnAws(config: AgentEnvironment, deps: AgentOnAwsDeps): Promise<AgentOnAws> {
  const { clock, random, log } = deps;
  const region = config.AWS_REGION;
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of [...closers].reverse()) await closer().catch((e: unknown) => log(`while stopping: ${String(e)}`));
  };
  try {
    // Checked before anything is asked of AWS: a mistyped tag is the configuration's fault, not the network's.
    const discoveryTag = config.KUBEPORT_DISCOVERY_TAG === '' ? undefined : parseDiscoveryTag(config.KUBEPORT_DISCOVERY_TAG);
    // One credential provider for every client: the task role's credentials, refreshed before they expire.
    const credentials: AwsCredentialProvider = defaultProvider();
    const sts = makeStsClient({ region, credentials });
    closers.push(async () => sts.destroy());
    const role = await callerRole(sts).catch((error: unknown) => {
      throw new AgentStartError(error instanceof Error ? error.message : String(error), error);
    });

    const dynamo = makeDynamoClient({ region, credentials });
    closers.push(async () => dynamo.destroy());
    const s3 = makeS3Client({ region, credentials, forcePathStyle: false });
    closers.push(async () => s3.destroy());
    const resources = new DynamoResourceStore(dynamo, config.KUBEPORT_RESOURCES_TABLE);
    const audit = new DynamoAuditLog(dynamo, config.KUBEPORT_AUDIT_TABLE, clock, { putOnly: true });
    const recordings = new S3RecordingStore(s3, config.KUBEPORT_RECORDINGS_BUCKET);

    // The certificate first: without it the agent cannot serve, and the reason is the deployment's to fix.
    const fetchCertificate = agentHostCertificateClient({ apiUrl: config.KUBEPORT_API_URL, region, credentials, clock });
    const tls = await fetchCertificate().catch((error: unknown) => {
      throw new AgentStartError(hostCertFailure(error, role), error);
    });

    const spooled = await startSpooledAuditWriter({
      store: audit,
      archive: new S3AuditArchive(s3, config.KUBEPORT_AUDIT_BUCKET, clock),
      spoolDir: config.KUBEPORT_SPOOL_DIR,
      clock,
      random,
      log,
    });
    closers.push(() => spooled.close(AUDIT_FLUSH_MS));

    const stsEndpoint = deps.env.AWS_ENDPOINT_URL_STS;
    const eksClients = new Map<string, ReturnType<typeof makeEksClient>>();
    closers.push(async () => eksClients.forEach((client) => client.destroy()));
    const eksClient = (clientRegion: string, as: AwsCredentialProvider) => {
      // The agent's own identity shares one client per region; an assumed role gets its own.
      if (as !== credentials) return makeEksClient({ region: clientRegion, credentials: as });
      let client = eksClients.get(clientRegion);
      if (client === undefined) eksClients.set(clientRegion, (client = makeEksClient({ region: clientRegion, credentials })));
      return client;
    };
    const clusters = new EksClusterDirectory({
      resources,
      clock,
      credentials,
      eksClient,
      ...(stsEndpoint ? { stsEndpoint } : {}),
      tokenRenewAfterMs: config.KUBEPORT_EKS_TOKEN_RENEW_SECONDS * 1000,
      log,
    });
    closers.push(async () => clusters.close());

    const registration = { resources, audit, clock, random };
    const configured = await ensureConfiguredClusters(registration, config.KUBEPORT_EKS_CLUSTERS, region);
    for (const skipped of configured.skipped) log(`KUBEPORT_EKS_CLUSTERS: ${skipped.name} is skipped: ${skipped.reason}`);
    if (discoveryTag !== undefined) {
      const regions = config.KUBEPORT_DISCOVERY_REGIONS.length > 0 ? config.KUBEPORT_DISCOVERY_REGIONS : [region];
      const discovery = new ClusterDiscoveryLoop(
        registration,
        new TaggedEksClusters({ tag: discoveryTag, regions, clientFor: (listed) => eksClient(listed, credentials) }),
        { intervalMs: config.KUBEPORT_DISCOVERY_INTERVAL_SECONDS * 1000, timers: systemTimers, log },
      );
      // Not awaited: a slow or failing EKS must not keep the agent from serving the clusters it has.
      void discovery.start();
      closers.push(() => discovery.stop());
    }

    const agentName = hostname();
    const health = new ClusterHealthChecks({
      resources,
      agent: agentName,
      probe: (cluster) => probeCluster({ clusters, clock, agent: agentName, agentRoleArn: role.principalArn }, cluster),
      timers: systemTimers,
      log,
      intervalMs: config.KUBEPORT_HEALTH_INTERVAL_SECONDS * 1000,
    });

    const trusted = storedTrustedCertificates(resources, clock);
    const agent = createAgent({
      tls: { certPem: tls.certPem, keyPem: tls.keyPem },
      trustedUserCas: () => trusted('user'),
      clock,
      log,
      clusters,
      clusterHealth: health,
      ...agentStoreViews({ resources, clock, log }),
      audit: spooled.writer,
      recordings,
    });
    const address = await agent.listen(config.KUBEPORT_AGENT_PORT, config.KUBEPORT_AGENT_HOST).catch((error: unknown) => {
      throw new AgentStartError(listenFailure(error, config), error);
    });
    closers.push(() => agent.close());
    // Not awaited: a cluster that does not answer must not hold up the start (its probe waits out a timeout).
    void health.start();
    closers.push(() => health.stop());

    const renewal = new CertificateRenewal<AgentTlsMaterial>(
      {
        fetch: fetchCertificate,
        install: (next) => agent.renewServerCertificate(next.certPem, next.keyPem),
        clock,
        log,
      },
      tls,
    );
    closers.push(async () => renewal.stop());

    // Economy (no load balancer): clients find this task by name, so it says where it is, once it serves.
    let published: { name: string; ip: string } | undefined;
    if (config.KUBEPORT_HOSTED_ZONE_ID && config.KUBEPORT_AGENT_DOMAIN_NAME) {
      const route53 = makeRoute53Client({ credentials });
      closers.push(async () => route53.destroy());
      const name = config.KUBEPORT_AGENT_DOMAIN_NAME;
      const ip = await publishOwnAddress({
        route53,
        hostedZoneId: config.KUBEPORT_HOSTED_ZONE_ID,
        domainName: name,
        // Plain http is refused except to the task's own loopback, where nothing on the way can forge the answer.
        publicIp: { url: config.KUBEPORT_PUBLIC_IP_URL, allowLoopbackHttp: true },
      }).catch((error: unknown) => {
        throw new AgentStartError(error instanceof Error ? error.message : String(error), error);
      });
      published = { name, ip };
      log(`published ${name} A ${ip}`);
    }

    return {
      address,
      role,
      configured: configured.registered,
      ...(published ? { published } : {}),
      // The stores stay up while the agent drains: requests in flight still need roles and users.
      drain: (deadlineMs, onProgress) => agent.drain(deadlineMs, onProgress),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The host-cert call failed at start: why, and what the deployment must change. */
function hostCertFailure(error: unknown, role: CallerRole): string {
  const said = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if (/refused: 403/.test(said)) {
    return (
      `${said}; the auth function's KUBEPORT_AGENT_ROLE_ARN must name this task role (${role.principalArn}) ` +
      `and its IAM policy must allow execute-api:Invoke on POST /webapi/iam/host-cert`
    );
  }
  if (/refused: 404/.test(said)) {
    return `${said}; the auth function has no agent configured: set KUBEPORT_AGENT_ROLE_ARN and KUBEPORT_AGENT_HOST_NAMES (the stack does when it deploys the agent)`;
  }
  return `the agent could not get its certificate from KUBEPORT_API_URL: ${said}; check KUBEPORT_API_URL (the stack's ApiUrl output) and the network path to it`;
}

function listenFailure(error: unknown, config: AgentEnvironment): string {
  const at = `${config.KUBEPORT_AGENT_HOST}:${config.KUBEPORT_AGENT_PORT}`;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `${at} is in use by another program; set KUBEPORT_AGENT_PORT to a free port`;
  if (code === 'EACCES') return `may not listen on ${at} (ports below 1024 need a privilege); set KUBEPORT_AGENT_PORT above 1023`;
  return `listening on ${at} failed: ${error instanceof Error ? error.message : String(error)}`;
}
