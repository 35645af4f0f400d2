// What writing audit events costs the process that writes them: DynamoAuditLog.write of
// kube.request-shaped events in batches as the agent's writer hands them over, into the embedded
// DynamoDB in a process of its own. Prints this process's CPU µs per event (the store's own work
// is the store's, as DynamoDB's is on AWS). BENCH_EVENTS sets the count (default 10,000).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { makeDynamoClient } from '../lib/adapters/aws/clients.js';
import { DynamoAuditLog } from '../lib/adapters/aws/dynamo-audit-log.js';
import type { AuditEvent } from '../lib/core/ports.js';
import { type AuditStoreReady, nextMessage } from './ipc.js';
import { startChild, stopProcess } from './processes.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? '10000');
const BATCH = 25;
const IN_FLIGHT = 4;

const traits = { logins: ['alice'], kubernetes_groups: ['developers'] };
function kubeRequest(i: number): AuditEvent {
  return {
    event: 'kube.request',
    code: 'T3009I',
    time: new Date(Date.now() + i).toISOString(),
    uid: randomUUID(),
    audit_id: randomUUID(),
    proto: 'kube',
    'addr.remote': '127.0.0.1:54321',
    user_agent: 'kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef',
    user: 'alice',
    user_roles: ['access'],
    user_traits: traits,
    user_kind: 'local',
    cert_serial: '1234567890abcdef',
    kubernetes_cluster: 'bench',
    kubernetes_labels: {},
    kubernetes_users: ['alice'],
    kubernetes_groups: ['developers', 'system:authenticated'],
    verb: 'GET',
    request_path: '/api/v1/namespaces/default/pods',
    resource_api_group: 'core/v1',
    resource_kind: 'pods',
    resource_namespace: 'default',
    response_code: 200,
    end_reason: 'answered',
    duration_ms: 1,
  };
}

const dir = mkdtempSync(join(os.tmpdir(), 'kubeport-audit-write-'));
const store = startChild('./audit-store-process.ts', [join(dir, 'store')]);
try {
  const ready = await nextMessage<AuditStoreReady>(store, 'ready', 30_000);
  const client = makeDynamoClient({ socketPath: ready.socketPath, region: 'local' });
  const log = new DynamoAuditLog(client, ready.table, { now: () => new Date() });
  const run = async (count: number) => {
    const events = Array.from({ length: count }, (_, i) => kubeRequest(i));
    const cpu = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < events.length) {
        const batch = events.slice(next, next + BATCH);
        next += BATCH;
        await log.write(batch);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const used = process.cpuUsage(cpu);
    if (process.env.BENCH_SPLIT) console.log(`user ${(used.user / count).toFixed(1)} system ${(used.system / count).toFixed(1)}`);
    return { cpuPerEvent: (used.user + used.system) / count, seconds: (performance.now() - started) / 1000 };
  };
  await run(2_000); // warm-up
  const { cpuPerEvent, seconds } = await run(EVENTS);
  console.log(
    `audit write: ${EVENTS} events, ${cpuPerEvent.toFixed(1)} us CPU per event in the writing process, ${(EVENTS / seconds).toFixed(0)} events/s`,
  );
  client.destroy();
} finally {
  await stopProcess(store, 'ipc');
  rmSync(dir, { recursive: true, force: true });
}
