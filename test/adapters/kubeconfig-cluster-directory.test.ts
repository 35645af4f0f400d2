// Local mode's cluster directory: registered() gives a kube_cluster's name and labels only for a
// cluster the kubeconfig has (as resolve does), so an unregistered name, or one this agent has no
// address for, is unknown alike; names outside the kubeconfig are not cached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { type EmbeddedStore, startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import { KubeconfigClusterDirectory } from '../../lib/adapters/local/kubeconfig-cluster-directory.js';
import type { KubeCluster } from '../../lib/core/resources.js';

let dynamo: EmbeddedStore;
let client: ReturnType<typeof makeDynamoClient>;
let resources: DynamoResourceStore;
const clock = { now: () => new Date('2026-12-03T04:00:00Z') };

const cluster = (name: string, labels: Record<string, string>): KubeCluster => ({
  kind: 'kube_cluster',
  version: 'v3',
  metadata: { name, labels },
  spec: {},
});

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
  const tables = tableNamesWithPrefix('kcd-');
  await createTables(client, tables);
  resources = new DynamoResourceStore(client, tables.resources);
  await resources.put('kube_cluster', 'dev', cluster('dev', { env: 'dev' }));
  await resources.put('kube_cluster', 'elsewhere', cluster('elsewhere', { env: 'prod' }));
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

describe('KubeconfigClusterDirectory', () => {
  it('gives name and labels of a registered cluster the kubeconfig has, and nothing for any other name', async () => {
    const server = new URL('https://127.0.0.1:6443');
    const directory = new KubeconfigClusterDirectory(
      resources,
      [
        { name: 'dev', contextName: 'kind-dev', server, tls: {} },
        { name: 'unregistered', contextName: 'x', server, tls: {} },
      ],
      clock,
    );
    expect(await directory.registered('dev')).toEqual({ name: 'dev', labels: { env: 'dev' } });
    // Registered but not in this kubeconfig, in the kubeconfig but not registered, neither: all unknown.
    expect(await directory.registered('elsewhere')).toBeUndefined();
    expect(await directory.registered('unregistered')).toBeUndefined();
    expect(await directory.registered('nobody')).toBeUndefined();
    expect((await directory.resolve('dev'))?.server).toBe(server);
  });
});
