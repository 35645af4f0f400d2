// Bench child: the embedded DynamoDB on disk, as local mode runs it, in a process of its own so
// that the store and the bench that loads it do not share one event loop.
import { startEmbeddedDynamoDb } from '../lib/adapters/local/embedded-dynamodb.js';
import { sendToParent, serveCommands } from './ipc.js';

export interface DynamoReady {
  type: 'ready';
  socketPath: string;
}

const store = await startEmbeddedDynamoDb({ dataDir: process.argv[2]! });
serveCommands(() => store.close());
await sendToParent({ type: 'ready', socketPath: store.socketPath } satisfies DynamoReady);
