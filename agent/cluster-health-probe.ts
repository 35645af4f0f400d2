// One health check of one cluster, in the order a request would fail: the cluster is resolved
// (EKS: DescribeCluster), the agent makes its credential (EKS: the presigned STS token), connects
// with the same TLS settings as its forwarding pools, and asks the API server three
// SelfSubjectAccessReviews: may it impersonate users, groups and service accounts. A fresh
// connection each time, so a dropped security-group rule shows even while pooled connections live.
import { Client } from 'undici';
import {
  type ImpersonatedResource,
  IMPERSONATED_RESOURCES,
  type ProbeOutcome,
  clusterHealthVerdict,
  oneLine,
} from '../lib/core/cluster-health-verdict.js';
import type { ClusterHealth } from '../lib/core/kube-cluster-health.js';
import type { EksSource } from '../lib/core/kube-cluster-source.js';
import type { Clock, ClusterDirectory, UpstreamCluster } from '../lib/core/ports.js';
import { upstreamConnect, upstreamPath } from './upstream-pools.js';

/** How long each step may take before the cluster counts as unreachable. */
export const PROBE_TIMEOUT_MS = 10_000;

const REVIEW_PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
// Answers are small; a large one is not a review.
const MAX_ANSWER_BYTES = 64 * 1024;

export interface ClusterProbeDeps {
  clusters: ClusterDirectory;
  clock: Clock;
  /** This agent's name in the statuses it writes (host name or task id). */
  agent: string;
  /** The IAM role the agent runs as, named in fixes (the access entry's principal). */
  agentRoleArn?: string;
  /** @default PROBE_TIMEOUT_MS */
  timeoutMs?: number;
}

/** A registered cluster as the checks know it: its name and, for EKS clusters, its source. */
export interface ProbedCluster {
  name: string;
  eks?: EksSource;
}

/** Checks one cluster now; never throws (every failure is a verdict). */
export async function probeCluster(deps: ClusterProbeDeps, cluster: ProbedCluster): Promise<ClusterHealth> {
  const outcome = await probeOutcome(deps, cluster.name);
  // Its endpoint answered no connection: what the directory cached about reaching it (EKS: a
  // DescribeCluster answer kept up to minutes) may be what is wrong, so requests look again.
  if (outcome.step === 'connect') deps.clusters.invalidate?.(cluster.name);
  return clusterHealthVerdict(outcome, {
    cluster: cluster.name,
    agent: deps.agent,
    ...(cluster.eks ? { eks: cluster.eks } : {}),
    ...(deps.agentRoleArn ? { agentRoleArn: deps.agentRoleArn } : {}),
    checkedAt: deps.clock.now(),
  });
}

const messageOf = (error: unknown) => oneLine(error instanceof Error ? error.message : String(error));

/** A socket or TLS error code, looked for on the error and its causes (undici wraps some). */
function codeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * The AWS error name of a failed DescribeCluster (EksClusterError.awsError), on the error or a
 * cause (the directory wraps it); read by shape so local mode loads no AWS SDK.
 */
function awsErrorOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const awsError = (e as { awsError?: unknown }).awsError;
    if (typeof awsError === 'string') return awsError;
  }
  return undefined;
}

async function probeOutcome(deps: ClusterProbeDeps, name: string): Promise<ProbeOutcome> {
  let cluster: UpstreamCluster | undefined;
  try {
    cluster = await deps.clusters.resolve(name);
  } catch (error) {
    const awsError = awsErrorOf(error);
    return { step: 'describe', message: messageOf(error), ...(awsError ? { awsError } : {}) };
  }
  if (cluster === undefined) {
    return { step: 'describe', message: 'this agent has no address for it (no eks source, and not in the kubeconfig it was given)' };
  }
  let token: string | undefined;
  try {
    token = cluster.bearerToken ? await cluster.bearerToken() : undefined;
  } catch (error) {
    return { step: 'credentials', message: messageOf(error) };
  }
  const timeoutMs = deps.timeoutMs ?? PROBE_TIMEOUT_MS;
  const client = new Client(cluster.server.origin, {
    connect: { ...upstreamConnect(cluster), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    pipelining: 1,
  });
  try {
    const allowed = {} as Record<ImpersonatedResource, boolean>;
    let deniedReason: string | undefined;
    for (const resource of IMPERSONATED_RESOURCES) {
      const answer = await review(client, cluster, token, resource, timeoutMs);
      if (answer.step !== 'reviewed') return answer;
      allowed[resource] = answer.allowed;
      if (!answer.allowed && answer.reason) deniedReason ??= answer.reason;
    }
    return { step: 'reviewed', allowed, ...(deniedReason ? { reason: deniedReason } : {}) };
  } catch (error) {
    const code = codeOf(error);
    return { step: 'connect', message: messageOf(error), ...(code ? { code } : {}) };
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

type ReviewAnswer = Exclude<ProbeOutcome, { step: 'reviewed' }> | { step: 'reviewed'; allowed: boolean; reason?: string };

async function review(
  client: Client,
  cluster: UpstreamCluster,
  token: string | undefined,
  resource: ImpersonatedResource,
  timeoutMs: number,
): Promise<ReviewAnswer> {
  const body = JSON.stringify({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { verb: 'impersonate', group: '', resource } },
  });
  const response = await client.request({
    method: 'POST',
    path: upstreamPath(cluster, REVIEW_PATH),
    headers: {
      host: cluster.server.host,
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'kubeport-agent/health-check',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
    // The body timeout is per chunk: a server trickling its answer would hold the round (and every
    // other cluster's check) without a deadline for the whole exchange.
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await readCapped(response.body);
  const parsed = parseJson(text);
  if (response.statusCode !== 201 && response.statusCode !== 200) {
    const message = typeof parsed?.message === 'string' ? parsed.message : text.slice(0, 200);
    return { step: 'review', status: response.statusCode, message: oneLine(message) };
  }
  const status = parsed?.status as { allowed?: unknown; reason?: unknown } | undefined;
  if (typeof status?.allowed !== 'boolean') return { step: 'malformed', message: 'no status.allowed in the answer' };
  return {
    step: 'reviewed',
    allowed: status.allowed,
    ...(typeof status.reason === 'string' && status.reason !== '' ? { reason: oneLine(status.reason) } : {}),
  };
}

async function readCapped(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
