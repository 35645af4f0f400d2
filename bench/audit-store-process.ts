// Bench child: the audit store (embedded DynamoDB on a data directory on disk, with Kubeport's
// tables) in a process of its own, as DynamoDB is a service of its own beside a deployed agent:
// the agent pays for its events and its writes, not for the store's work.
import { makeDynamoClient } from '../lib/adapters/aws/clients.js';
import { createTables, tableNamesWithPrefix } from '../lib/adapters/aws/dynamo-tables.js';
import { startEmbeddedDynamoDb } from '../lib/adapters/local/embedded-dynamodb.js';
import { type AuditStoreReady, sendToParent, serveCommands } from './ipc.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: audit-store-process.ts <data dir>');
const dynamo = await startEmbeddedDynamoDb({ dataDir });
const client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
const tables = tableNamesWithPrefix('bench-');
await createTables(client, tables);
client.destroy();
serveCommands(() => dynamo.close());
await sendToParent({ type: 'ready', socketPath: dynamo.socketPath, table: tables.audit } satisfies AuditStoreReady);
