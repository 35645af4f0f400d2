// Bench child: the Kubeport agent in a process of its own, wired as in local mode but with a
// fixed cluster directory (one cluster, 'bench') and the built-in access role.
import { accessRole } from '../lib/core/builtin-roles.js';
import type { Clock, ClusterDirectory, UpstreamCluster } from '../lib/core/ports.js';
import { cachedRoles } from '../lib/core/fresh-cache.js';
import { createAgent } from '../agent/server.js';
import { makeDynamoClient, makeS3Client } from '../lib/adapters/aws/clients.js';
import { S3RecordingStore } from '../lib/adapters/aws/s3-recording-store.js';
import { DynamoAuditLog } from '../lib/adapters/aws/dynamo-audit-log.js';
import { FileAuditSpool } from '../lib/adapters/local/file-audit-spool.js';
import { systemClock, systemRandom, systemTimers } from '../lib/adapters/system.js';
import { BufferedAuditWriter } from '../lib/services/audit-writer.js';
import { type AgentReady, type AgentStart, type AgentWaiting, askParent, sendToParent, serveCommands } from './ipc.js';

const start = await askParent<AgentStart>({ type: 'waiting' } satisfies AgentWaiting, 'start');
const clock: Clock = { now: () => new Date() };

const bench: UpstreamCluster = {
  name: 'bench',
  labels: {},
  server: new URL(start.upstream.url),
  tls: { ca: start.upstream.caPem, cert: start.upstream.client.certPem, key: start.upstream.client.keyPem },
};
const clusters: ClusterDirectory = {
  registered: async (name) => (name === bench.name ? { name, labels: bench.labels } : undefined),
  resolve: async (name) => (name === bench.name ? bench : undefined),
};

const log = (message: string) => process.stderr.write(`agent: ${message}\n`);
// As local mode wires it: the real writer over the DynamoDB audit log, a file spool beside it.
const audit = start.audit
  ? new BufferedAuditWriter({
      store: new DynamoAuditLog(makeDynamoClient({ socketPath: start.audit.socketPath, region: 'local' }), start.audit.table, systemClock),
      spool: await FileAuditSpool.open(start.audit.spoolDir, { log }),
      spoolLocation: start.audit.spoolDir,
      clock: systemClock,
      random: systemRandom,
      timers: systemTimers,
      log,
    })
  : undefined;

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
  trustedUserCas: async () => [start.userCaPem],
  clock,
  log,
  clusters,
  ...(audit ? { audit } : {}),
  // As local mode wires it: roles re-read at most every 2 s (here the read is free).
  loadRoles: cachedRoles(async () => [accessRole], clock),
  // The bench's user exists and was never revoked; the real lookup is a cached store read.
  loadUser: async (name) => ({ kind: 'user', version: 'v2', metadata: { name }, spec: { roles: ['access'], traits: {} } }),
});
const { port } = await agent.listen(0, '127.0.0.1');
serveCommands(
  async () => {
    await agent.close();
    await audit?.flush(5_000);
    await audit?.close();
  },
  () => (audit ? { audit: audit.counters() } : {}),
);
await sendToParent({ type: 'ready', port } satisfies AgentReady);
