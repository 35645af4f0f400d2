// The agent's clusters on AWS: a kube_cluster with an eks source is reached at the endpoint and
// CA DescribeCluster gives (cached, refreshed), with a bearer token signed for it by the agent's
// own IAM identity, or by a role it assumes when the source names one (a cluster in another
// account). Other kube_clusters (source kubeconfig) resolve through the directory given for them.
import type { EKSClient } from '@aws-sdk/client-eks';
import { cachedLoader } from '../../core/fresh-cache.js';
import { KubeportError } from '../../core/errors.js';
import { type EksSource, kubeClusterSource } from '../../core/kube-cluster-source.js';
import type { Clock, ClusterDirectory, RegisteredCluster, ResourceStore, UpstreamCluster } from '../../core/ports.js';
import type { KubeCluster } from '../../core/resources.js';
import { assumedRoleCredentials } from './assumed-role-credentials.js';
import { EksClusterLookup } from './eks-clusters.js';
import { type AwsCredentialProvider, EksTokenSource } from './eks-token.js';

/** An eks-sourced cluster the agent cannot reach now (DescribeCluster failed, no credentials): a 503 naming why. */
export class ClusterUnavailableError extends KubeportError {
  constructor(
    readonly cluster: string,
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super('unavailable', `kube cluster ${cluster} cannot be reached: ${reason}`, options);
    this.name = 'ClusterUnavailableError';
  }
}

export interface EksClusterDirectoryOptions {
  /** Where the kube_cluster resources are (read at most every FRESH_FOR_MS per cluster). */
  resources: ResourceStore;
  clock: Clock;
  /** The agent's own credentials (the default chain: the task role on Fargate). */
  credentials: AwsCredentialProvider;
  /** An EKS client of `region` signing with `credentials` (makeEksClient: AWS_ENDPOINT_URL_EKS applies). */
  eksClient: (region: string, credentials: AwsCredentialProvider) => EKSClient;
  /** A non-default STS endpoint (AWS_ENDPOINT_URL_STS), for tokens and AssumeRole alike. */
  stsEndpoint?: string;
  /** KUBEPORT_EKS_TOKEN_RENEW_SECONDS, in ms. */
  tokenRenewAfterMs?: number;
  /** Who the agent is in the other account's CloudTrail when it assumes a source's role. @default 'kubeport-agent' */
  roleSessionName?: string;
  /** kube_clusters of source kubeconfig (local mode, clusters outside AWS); none: they are not found. */
  kubeconfig?: ClusterDirectory;
  /** How long a description is used (EksClusterLookup's refreshMs). */
  describeRefreshMs?: number;
  /**
   * How often the descriptions and tokens of clusters used lately are renewed ahead of requests,
   * so no request waits for DescribeCluster or a signature. @default 60000
   */
  warmEveryMs?: number;
  log?: (message: string) => void;
}

/** One EKS cluster as reached by one identity (the agent's own, or an assumed role). */
interface EksTarget {
  lookup: EksClusterLookup;
  eksName: string;
  token: EksTokenSource;
  usedAt: number;
}

/** Targets not used for this long are forgotten (the kube_cluster may be gone). */
const FORGET_AFTER_MS = 3_600_000;
/** Only targets used within this are kept warm. */
const WARM_WHILE_USED_MS = 30 * 60_000;

export class EksClusterDirectory implements ClusterDirectory {
  private readonly stored: (name: string) => Promise<KubeCluster | undefined>;
  /** One lookup per region and identity: DescribeCluster answers differ by account. */
  private readonly lookups = new Map<string, EksClusterLookup>();
  private readonly credentialsByRole = new Map<string, AwsCredentialProvider>();
  private readonly targets = new Map<string, EksTarget>();
  /** The target each kube_cluster last resolved to, so invalidate (sync) knows which description to drop. */
  private readonly targetByCluster = new Map<string, EksTarget>();
  private readonly warmTimer: NodeJS.Timeout;

  constructor(private readonly options: EksClusterDirectoryOptions) {
    this.stored = cachedLoader(async (name) => (await options.resources.get<KubeCluster>('kube_cluster', name))?.body, options.clock);
    this.warmTimer = setInterval(() => this.warm(), options.warmEveryMs ?? 60_000);
    this.warmTimer.unref();
  }

  /** The kube_cluster's name and labels from the store: no DescribeCluster, no AssumeRole. */
  async registered(name: string): Promise<RegisteredCluster | undefined> {
    const cluster = await this.stored(name);
    if (cluster === undefined) return undefined;
    const source = kubeClusterSource(cluster.spec ?? {});
    if (source.type !== 'eks') return this.options.kubeconfig?.registered(name);
    return { name, labels: cluster.metadata.labels ?? {} };
  }

  async resolve(name: string): Promise<UpstreamCluster | undefined> {
    const cluster = await this.stored(name);
    if (cluster === undefined) return undefined;
    const source = kubeClusterSource(cluster.spec ?? {});
    if (source.type !== 'eks') return this.options.kubeconfig?.resolve(name);
    const target = this.target(source.eks);
    target.usedAt = this.options.clock.now().getTime();
    this.targetByCluster.set(name, target);
    let connection;
    try {
      connection = await target.lookup.connection(source.eks.name);
    } catch (error) {
      throw this.unavailable(name, error);
    }
    const token = target.token;
    return {
      name,
      labels: cluster.metadata.labels ?? {},
      server: new URL(connection.endpoint),
      tls: { ca: connection.caPem },
      // Asked at each request: a request after a renewal carries the new token, while streams
      // opened before keep going (EKS checks a token only when a connection is made).
      bearerToken: async () => {
        try {
          return await token.token();
        } catch (error) {
          throw this.unavailable(name, error);
        }
      },
    };
  }

  /**
   * Drops the cached description of `name` (the health check could not connect to the endpoint
   * it gave): the next resolve describes the cluster again, so a moved endpoint or a new CA is
   * picked up at once instead of after the description's refresh time.
   */
  invalidate(name: string): void {
    const target = this.targetByCluster.get(name);
    if (target !== undefined) target.lookup.invalidate(target.eksName);
    else this.options.kubeconfig?.invalidate?.(name);
  }

  /** Stops renewing ahead of requests. */
  close(): void {
    clearInterval(this.warmTimer);
  }

  private target(eks: EksSource): EksTarget {
    const identity = eks.role_arn ?? '';
    const key = `${eks.region}\n${identity}\n${eks.name}`;
    let target = this.targets.get(key);
    if (target === undefined) {
      const credentials = this.credentials(eks);
      const lookupKey = `${eks.region}\n${identity}`;
      let lookup = this.lookups.get(lookupKey);
      if (lookup === undefined) {
        lookup = new EksClusterLookup({
          client: this.options.eksClient(eks.region, credentials),
          region: eks.region,
          clock: this.options.clock,
          ...(this.options.describeRefreshMs === undefined ? {} : { refreshMs: this.options.describeRefreshMs }),
        });
        this.lookups.set(lookupKey, lookup);
      }
      const token = new EksTokenSource({
        clusterName: eks.name,
        region: eks.region,
        credentials,
        clock: this.options.clock,
        ...(this.options.stsEndpoint === undefined ? {} : { stsEndpoint: this.options.stsEndpoint }),
        ...(this.options.tokenRenewAfterMs === undefined ? {} : { renewAfterMs: this.options.tokenRenewAfterMs }),
      });
      target = { lookup, eksName: eks.name, token, usedAt: 0 };
      this.targets.set(key, target);
    }
    return target;
  }

  /** The agent's own credentials, or one shared session of the source's role per role and region. */
  private credentials(eks: EksSource): AwsCredentialProvider {
    if (eks.role_arn === undefined) return this.options.credentials;
    const key = `${eks.region}\n${eks.role_arn}`;
    let provider = this.credentialsByRole.get(key);
    if (provider === undefined) {
      provider = assumedRoleCredentials({
        roleArn: eks.role_arn,
        sessionName: this.options.roleSessionName ?? 'kubeport-agent',
        region: eks.region,
        credentials: this.options.credentials,
        clock: this.options.clock,
        ...(this.options.stsEndpoint === undefined ? {} : { stsEndpoint: this.options.stsEndpoint }),
      });
      this.credentialsByRole.set(key, provider);
    }
    return provider;
  }

  private unavailable(name: string, error: unknown): ClusterUnavailableError {
    if (error instanceof ClusterUnavailableError) return error;
    // Kubeport's own errors say what went wrong and what to do; anything else is only logged.
    if (error instanceof KubeportError) return new ClusterUnavailableError(name, error.message, { cause: error });
    this.options.log?.(`kube cluster ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return new ClusterUnavailableError(name, "the agent's AWS calls for it failed; the agent's log has the details", { cause: error });
  }

  /** Renews, ahead of requests, what clusters used lately will need; forgets clusters unused for long. */
  private warm(): void {
    const now = this.options.clock.now().getTime();
    for (const [key, target] of this.targets) {
      if (now - target.usedAt > FORGET_AFTER_MS) {
        this.targets.delete(key);
        for (const [name, used] of this.targetByCluster) if (used === target) this.targetByCluster.delete(name);
        continue;
      }
      if (now - target.usedAt > WARM_WHILE_USED_MS) continue;
      target.lookup.connection(target.eksName).catch(() => undefined);
      target.token.fresh().catch(() => undefined);
    }
  }
}
