// Local mode checks the health of its kubeconfig's clusters as the agent on AWS does, and writes
// each status to its store, where tctl and tsh read them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import { readKubeconfig } from '../../lib/adapters/local/kubeconfig-source.js';
import { systemClock, systemRandom } from '../../lib/adapters/system.js';
import { startLocalMode } from '../../lib/app/local-mode.js';
import { type ClusterHealth, KUBE_CLUSTER_STATUS_KIND } from '../../lib/core/kube-cluster-health.js';
import { type KubeApiServer, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';

let dir: string;
let good: KubeApiServer;
let refusing: KubeApiServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'local-health-'));
  good = await startKubeApiServer();
  // Knows the agent's certificate but lets it impersonate no one (and act only inside one namespace).
  refusing = await startKubeApiServer({ impersonators: [], rbac: { 'kubeport-agent': ['default'] } });
});

afterAll(async () => {
  await good?.close();
  await refusing?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('local mode cluster health', () => {
  it('checks each kubeconfig cluster, passes the view to the agent and stores each status', async () => {
    await good.writeKubeconfig(join(dir, 'good.yaml'), { contextName: 'good' });
    await refusing.writeKubeconfig(join(dir, 'refusing.yaml'), { contextName: 'refusing' });
    const clusters = [...readKubeconfig(join(dir, 'good.yaml'), []).clusters, ...readKubeconfig(join(dir, 'refusing.yaml'), []).clusters];
    const dataDir = join(dir, 'data');
    const logs: string[] = [];
    const local = await startLocalMode(
      {
        dataDir,
        apiAddr: { host: '127.0.0.1', port: 0 },
        agentAddr: { host: '127.0.0.1', port: 0 },
        clusterName: 'kubeport-local',
        clusters,
        clusterLabels: {},
        serverVersion: 'test',
      },
      { clock: systemClock, random: systemRandom, log: (line) => logs.push(line), progress: () => undefined },
    );
    try {
      await local.clusterHealth.checkNow();
      expect(local.clusterHealth.current('good')).toMatchObject({ status: 'healthy' });
      expect(local.clusterHealth.current('refusing')).toMatchObject({ status: 'unhealthy', problem: 'cannot_impersonate' });
      expect(logs.filter((line) => line.startsWith('cluster refusing is unhealthy (cannot_impersonate)'))).toHaveLength(1);
    } finally {
      await local.close();
    }
    // What the store kept, read back from the data directory after local mode stopped.
    const dynamo = await startEmbeddedDynamoDb({ dataDir: join(dataDir, 'dynamodb') });
    const client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
    try {
      const store = new DynamoResourceStore(client, tableNamesWithPrefix('kubeport-').resources);
      const statuses = await store.list<ClusterHealth>(KUBE_CLUSTER_STATUS_KIND);
      expect(Object.fromEntries(statuses.map((s) => [s.name, s.body.status]))).toEqual({ good: 'healthy', refusing: 'unhealthy' });
    } finally {
      client.destroy();
      await dynamo.close();
    }
  }, 60_000);
});
