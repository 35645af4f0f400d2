// Bench child: the Kubeport agent in a process of its own, wired as in local mode but with a
// fixed cluster directory (one cluster, 'bench') and the built-in access role.
import { accessRole } from '../lib/core/builtin-roles.js';
import type { Clock, ClusterDirectory, UpstreamCluster } from '../lib/core/ports.js';
import { cachedRoles } from '../lib/core/fresh-cache.js';
import { createAgent } from '../agent/server.js';
import { makeS3Client } from '../lib/adapters/aws/clients.js';
import { S3RecordingStore } from '../lib/adapters/aws/s3-recording-store.js';
import { type AgentReady, type AgentStart, type AgentWaiting, askParent, sendToParent, serveCommands } from './ipc.js';

const start = await askParent<AgentStart>({ type: 'waiting' } satisfies AgentWaiting, 'start');
const clock: Clock = { now: () => new Date() };

const bench: UpstreamCluster = {
  name: 'bench',
  labels: {},
  server: new URL(start.upstream.url),
  tls: { ca: start.upstream.caPem, cert: start.upstream.client.certPem, key: start.upstream.client.keyPem },
};
const clusters: ClusterDirectory = { resolve: async (name) => (name === bench.name ? bench : undefined) };

const agent = createAgent({
  tls: start.tls,
  ...(start.limits ? { limits: start.limits } : {}),
  ...(start.recordings
    ? {
        recordings: new S3RecordingStore(
          makeS3Client({ socketPath: start.recordings.socketPath, region: 'local', forcePathStyle: true }),
          start.recordings.bucket,
        ),
      }
    : {}),
  userCaPems: [start.userCaPem],
  clock,
  log: (message) => process.stderr.write(`agent: ${message}\n`),
  clusters,
  // As local mode wires it: roles re-read at most every 2 s (here the read is free).
  loadRoles: cachedRoles(async () => [accessRole], clock),
  // The bench's user exists and was never revoked; the real lookup is a cached store read.
  loadUser: async (name) => ({ kind: 'user', version: 'v2', metadata: { name }, spec: { roles: ['access'], traits: {} } }),
});
const { port } = await agent.listen(0, '127.0.0.1');
serveCommands(() => agent.close());
await sendToParent({ type: 'ready', port } satisfies AgentReady);
