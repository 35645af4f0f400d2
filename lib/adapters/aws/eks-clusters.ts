// EKS clusters as the agent needs them: the endpoint and CA of a named cluster (DescribeCluster,
// cached), and the clusters carrying a discovery tag (ListClusters + DescribeCluster).
import { DescribeClusterCommand, type Cluster, type EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import type { DiscoveredCluster } from '../../core/cluster-discovery.js';
import { type ErrorCode, KubeportError } from '../../core/errors.js';
import type { Clock } from '../../core/ports.js';

/** How to reach a cluster's API server. */
export interface EksClusterConnection {
  name: string;
  region: string;
  arn: string;
  /** `https://…eks.amazonaws.com`. */
  endpoint: string;
  /** The cluster CA certificate, PEM. */
  caPem: string;
}

/** DescribeCluster failed, or described a cluster that cannot be reached; the message says what to do. */
export class EksClusterError extends KubeportError {
  constructor(
    readonly cluster: string,
    readonly region: string,
    /** The AWS error name, or `ClusterNotActive`. */
    readonly awsError: string,
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(code, message, options);
    this.name = 'EksClusterError';
  }
}

function eksError(error: unknown, cluster: string, region: string): KubeportError {
  if (error instanceof KubeportError) return error;
  const name = error instanceof Error ? error.name : 'UnknownError';
  const said = error instanceof Error ? error.message : String(error);
  const fail = (code: ErrorCode, message: string, retryAfterSeconds?: number) =>
    new EksClusterError(cluster, region, name, code, message, {
      cause: error,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  switch (name) {
    case 'ResourceNotFoundException':
      return fail(
        'not_found',
        `EKS has no cluster ${cluster} in region ${region}; check the name and region of the kube_cluster's eks source (aws eks list-clusters --region ${region})`,
      );
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
      return fail(
        'invalid_config',
        `the agent may not describe EKS cluster ${cluster} in region ${region} (${name}); grant its task role eks:DescribeCluster on arn:aws:eks:${region}:<account>:cluster/${cluster}`,
      );
    case 'ThrottlingException':
    case 'TooManyRequestsException':
      return fail('unavailable', `EKS throttled the description of cluster ${cluster} in region ${region}; retry shortly`, 5);
    default:
      return fail(
        'bad_gateway',
        `describing EKS cluster ${cluster} in region ${region} failed (${name}: ${said}); retry, and check the agent's network path to EKS`,
      );
  }
}

/** A failure of EKS's own (not an answer about the cluster): the last good description still holds. */
function isTransient(error: unknown): boolean {
  return (
    error instanceof EksClusterError &&
    (error.code === 'unavailable' || error.code === 'bad_gateway') &&
    error.awsError !== 'ClusterNotActive'
  );
}

// An UPDATING cluster (a version upgrade, a config change) keeps serving on its endpoint.
const REACHABLE_STATUSES = new Set(['ACTIVE', 'UPDATING']);

function connectionOf(cluster: Cluster | undefined, name: string, region: string): EksClusterConnection {
  const status = cluster?.status ?? 'UNKNOWN';
  if (!REACHABLE_STATUSES.has(status)) {
    throw new EksClusterError(
      name,
      region,
      'ClusterNotActive',
      'unavailable',
      `EKS cluster ${name} in region ${region} is ${status}, not ACTIVE; it can be reached once it is ACTIVE again`,
    );
  }
  const endpoint = cluster?.endpoint;
  const caData = cluster?.certificateAuthority?.data;
  if (endpoint === undefined || caData === undefined) {
    throw new EksClusterError(
      name,
      region,
      'IncompleteDescription',
      'bad_gateway',
      `EKS described cluster ${name} in region ${region} without an endpoint or CA; retry`,
    );
  }
  return { name, region, arn: cluster?.arn ?? '', endpoint, caPem: Buffer.from(caData, 'base64').toString('utf8') };
}

export interface EksClusterLookupOptions {
  client: EKSClient;
  /** The client's region, named in errors. */
  region: string;
  clock: Clock;
  /**
   * How long a description is used before it is fetched again (an endpoint or CA rarely changes;
   * a connection failure refreshes it at once through invalidate).
   * @default 600000
   */
  refreshMs?: number;
  /**
   * How long a failure is answered from memory, so requests to a missing or forbidden cluster do
   * not each cost a DescribeCluster.
   * @default 30000
   */
  failureMs?: number;
}

/**
 * The endpoint and CA of named clusters in one region, cached; concurrent callers share one request.
 * Callers pass only the names of registered clusters: one entry is kept per name asked for.
 */
export class EksClusterLookup {
  private readonly entries = new Map<string, { timing: { at: number; ttlMs: number }; value: Promise<EksClusterConnection> }>();
  // The last description that worked, per cluster: used while EKS itself fails (throttled, down),
  // so a blip of the EKS API does not cut traffic to a cluster that is still there.
  private readonly lastGood = new Map<string, EksClusterConnection>();
  private readonly refreshMs: number;
  private readonly failureMs: number;

  constructor(private readonly options: EksClusterLookupOptions) {
    this.refreshMs = options.refreshMs ?? 600_000;
    this.failureMs = options.failureMs ?? 30_000;
  }

  connection(name: string): Promise<EksClusterConnection> {
    const now = this.options.clock.now().getTime();
    const hit = this.entries.get(name);
    if (hit && now - hit.timing.at < hit.timing.ttlMs) return hit.value;
    const timing = { at: now, ttlMs: this.refreshMs };
    const value = this.describe(name).then(
      (connection) => {
        this.lastGood.set(name, connection);
        return connection;
      },
      (error: unknown) => {
        timing.ttlMs = this.failureMs;
        const previous = this.lastGood.get(name);
        if (previous !== undefined && isTransient(error)) return previous;
        this.lastGood.delete(name);
        throw error;
      },
    );
    this.entries.set(name, { timing, value });
    return value;
  }

  /** Forgets what is known of `name` (after a TLS or connection failure): the next caller describes it again. */
  invalidate(name: string): void {
    this.entries.delete(name);
  }

  private async describe(name: string): Promise<EksClusterConnection> {
    const { client, region } = this.options;
    let cluster: Cluster | undefined;
    try {
      ({ cluster } = await client.send(new DescribeClusterCommand({ name })));
    } catch (error) {
      throw eksError(error, name, region);
    }
    return connectionOf(cluster, name, region);
  }
}

export interface TaggedClusterQuery {
  tagKey: string;
  /** Only clusters whose tag has this value; omit to take any value. */
  tagValue?: string;
  /** Clusters described at once. @default 5 */
  concurrency?: number;
}

export interface TaggedClusters {
  clusters: DiscoveredCluster[];
  /** Clusters listed but not described (denied, throttled, failing): whether they carry the tag is unknown. */
  unreadable: { name: string; error: KubeportError }[];
}

async function allClusterNames(client: EKSClient): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListClustersCommand({ maxResults: 100, ...(nextToken === undefined ? {} : { nextToken }) }));
    names.push(...(page.clusters ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return names;
}

/**
 * Every cluster of the client's region that carries the tag, with all its tags. A failure to list
 * throws (no answer is not "no clusters"); a cluster deleted between list and describe is left out.
 */
export async function discoverTaggedClusters(client: EKSClient, query: TaggedClusterQuery): Promise<TaggedClusters> {
  const region = await client.config.region();
  let names: string[];
  try {
    names = await allClusterNames(client);
  } catch (error) {
    const name = error instanceof Error ? error.name : 'UnknownError';
    throw new KubeportError(
      name === 'AccessDeniedException' ? 'invalid_config' : 'bad_gateway',
      name === 'AccessDeniedException'
        ? `the agent may not list EKS clusters in region ${region}; grant its task role eks:ListClusters and eks:DescribeCluster to use discovery`
        : `listing EKS clusters in region ${region} failed (${name}); discovery retries on its next round`,
      { cause: error },
    );
  }
  const result: TaggedClusters = { clusters: [], unreadable: [] };
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      let cluster: Cluster | undefined;
      try {
        ({ cluster } = await client.send(new DescribeClusterCommand({ name })));
      } catch (error) {
        if (error instanceof Error && error.name === 'ResourceNotFoundException') continue;
        result.unreadable.push({ name, error: eksError(error, name, region) });
        continue;
      }
      const tags = cluster?.tags ?? {};
      if (!Object.hasOwn(tags, query.tagKey)) continue;
      if (query.tagValue !== undefined && tags[query.tagKey] !== query.tagValue) continue;
      result.clusters.push({ name, region, tags: { ...tags } });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, query.concurrency ?? 5) }, worker));
  result.clusters.sort((a, b) => a.name.localeCompare(b.name));
  return result;
}
