// An AWS account's worth of EKS for tests of the agent's EKS upstream: the STS and EKS stand-ins,
// EKS-like clusters (eks-kube-cluster.ts) registered in both, kube_cluster resources in an
// embedded DynamoDB, and EksClusterDirectory instances built on them with the real SDK clients.
import { makeDynamoClient, makeEksClient } from '../../lib/adapters/aws/clients.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { EksClusterDirectory, type EksClusterDirectoryOptions } from '../../lib/adapters/aws/eks-cluster-directory.js';
import { startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import type { ResourceStore } from '../../lib/core/ports.js';
import { type KubeCluster, parseResource } from '../../lib/core/resources.js';
import { startEksStandIn, type EksStandIn } from './eks-stand-in.js';
import { type EksKubeClusterOptions, type EksKubeCluster, startEksKubeCluster } from './eks-kube-cluster.js';
import { AGENT_TASK_ROLE, startStsStandIn, type StsStandIn } from './sts-stand-in.js';

export const WORLD_REGION = 'eu-west-1';

/** Real time plus an offset a test moves forward (the SDK signs with real time; STS allows some skew). */
export interface WorldClock {
  now(): Date;
  advance(ms: number): void;
}

export interface EksWorld {
  clock: WorldClock;
  sts: StsStandIn;
  eks: EksStandIn;
  resources: ResourceStore;
  /** Starts an EKS-like cluster registered in the EKS stand-in. */
  addCluster(options: Omit<EksKubeClusterOptions, 'sts' | 'eks'>): Promise<EksKubeCluster>;
  /** Stores a kube_cluster resource, as tctl create would. */
  register(name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<void>;
  /** A directory on the world's stand-ins, with the agent task role's credentials; closed with the world. */
  directory(options?: Partial<EksClusterDirectoryOptions>): EksClusterDirectory;
  close(): Promise<void>;
}

export async function startEksWorld(
  options: { clock?: WorldClock; trusts?: Record<string, string[]>; permits?: Record<string, string[]>; tokenLifetimeMs?: number } = {},
): Promise<EksWorld> {
  let offset = 0;
  const clock = options.clock ?? { now: () => new Date(Date.now() + offset), advance: (ms: number) => (offset += ms) };
  const sts = await startStsStandIn({
    region: WORLD_REGION,
    identities: [AGENT_TASK_ROLE],
    now: () => clock.now(),
    ...(options.trusts ? { trusts: options.trusts } : {}),
    ...(options.permits ? { permits: options.permits } : {}),
    ...(options.tokenLifetimeMs === undefined ? {} : { tokenLifetimeMs: options.tokenLifetimeMs }),
  });
  const eks = await startEksStandIn({ region: WORLD_REGION });
  const dynamo = await startEmbeddedDynamoDb({});
  const dynamoClient = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
  const tables = tableNamesWithPrefix('eks-');
  await createTables(dynamoClient, tables);
  const resources = new DynamoResourceStore(dynamoClient, tables.resources);
  const clusters: EksKubeCluster[] = [];
  const directories: EksClusterDirectory[] = [];
  const eksClients: Array<{ destroy(): void }> = [];
  return {
    clock,
    sts,
    eks,
    resources,
    addCluster: async (clusterOptions) => {
      const cluster = await startEksKubeCluster({ ...clusterOptions, sts, eks });
      clusters.push(cluster);
      return cluster;
    },
    register: async (name, spec, labels = {}) => {
      const parsed = parseResource({ kind: 'kube_cluster', version: 'v3', metadata: { name, labels }, spec });
      if (!parsed.ok) throw new Error(parsed.message);
      await resources.put<KubeCluster>('kube_cluster', name, parsed.resource as KubeCluster);
    },
    directory: (directoryOptions = {}) => {
      const directory = new EksClusterDirectory({
        resources,
        clock,
        credentials: () => Promise.resolve(AGENT_TASK_ROLE),
        eksClient: (region, credentials) => {
          const client = makeEksClient({ region, endpoint: eks.url, credentials });
          eksClients.push(client);
          return client;
        },
        stsEndpoint: sts.url,
        ...directoryOptions,
      });
      directories.push(directory);
      return directory;
    },
    close: async () => {
      for (const directory of directories) directory.close();
      for (const client of eksClients) client.destroy();
      await Promise.all(clusters.map((cluster) => cluster.close()));
      dynamoClient.destroy();
      await dynamo.close();
      await eks.close();
      await sts.close();
    },
  };
}
