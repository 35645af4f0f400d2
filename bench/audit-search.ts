// Audit search over a month of events: BENCH_AUDIT_EVENTS (default the issue's 1,000,000)
// generated events over 30 days, written with DynamoAuditLog.write() into the embedded DynamoDB on
// disk (in its own process, as local mode runs it), then the latency of the searches tctl audit
// search makes.
//
// The events have the shapes the agent writes: mostly kube.request (with identity, principals,
// resource and response code), some exec and session.start/end with a session id, a few port
// and user.login events; 300 users of which three bots make a third of the traffic, 12 clusters,
// 40 namespaces. A seeded generator makes every run search the same data.
//
// Writing a million events takes the embedded store some 12 to 18 minutes on two shared cores
// (1,000 to 1,500 events/s; the store's one thread is the bound, spending three times the CPU the
// generator does, so more writers in flight do not help), so the store is generated once and kept in
// ${XDG_CACHE_HOME:-~/.cache}/kubeport/bench-audit-<count>-<generation>, where <generation> changes
// with the generator, the table schema and the item layout. A marker written when generation ends
// says the store is complete; a store without it (an interrupted run) is thrown away and made
// again. BENCH_AUDIT_CACHE=off generates into a temporary directory, removed afterwards.
//
// Each search is run SAMPLES times (varying the user, session or cluster) and timed end to end
// through the adapter; the figures are p50 and p95. Aim (issue 8): "fast on a month of events",
// which we read as p95 under 1 s for every search. Cluster + namespace is served by the namespace
// index, cluster alone (no index of its own) by the day's partitions filtered in the store.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditItem } from '../lib/adapters/aws/audit-item.js';
import { makeDynamoClient } from '../lib/adapters/aws/clients.js';
import { DynamoAuditLog } from '../lib/adapters/aws/dynamo-audit-log.js';
import { auditTableSchema, createTables, tableNamesWithPrefix } from '../lib/adapters/aws/dynamo-tables.js';
import type { AuditEvent, AuditQuery } from '../lib/core/ports.js';
import type { DynamoReady } from './dynamo-process.js';
import { nextMessage } from './ipc.js';
import { processTreeCpuMicros, startChild, stopProcess } from './processes.js';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const CACHED = process.env.BENCH_AUDIT_CACHE !== 'off';
// Bump when the generator makes other events; the schema and item layout are hashed in below.
const GENERATOR_VERSION = 2;
const DAYS = 30;
const DAY_MS = 86_400_000;
const SAMPLES = 20;
const WRITE_CHUNK = 500;
const WRITERS = 4;
const now = new Date('2030-06-30T12:00:00.000Z');

/** mulberry32: small, seeded, good enough to spread events. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const random = seeded(8);
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
/** `length` random hex digits, eight per draw. */
function hex(length: number): string {
  let digits = '';
  while (digits.length < length)
    digits += Math.floor(random() * 4_294_967_296)
      .toString(16)
      .padStart(8, '0');
  return digits.slice(0, length);
}
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;

const users = [...Array.from({ length: 297 }, (_, i) => `user-${i}@example.com`), 'ci-bot', 'argo-bot', 'backup-bot'];
const bots = users.slice(-3);
const clusters = Array.from({ length: 12 }, (_, i) => `${['prod', 'staging', 'dev'][i % 3]}-${['eu', 'us', 'ap', 'sa'][i % 4]}-${i}`);
const namespaces = Array.from(
  { length: 40 },
  (_, i) => ['default', 'kube-system', 'payments', 'web', 'monitoring'][i % 5] + (i < 5 ? '' : `-${i}`),
);
const resources = ['pods', 'deployments', 'services', 'configmaps', 'secrets', 'jobs', 'events', 'replicasets'];
const verbs = ['GET', 'GET', 'GET', 'GET', 'POST', 'PATCH', 'PUT', 'DELETE'];
const commands = [['sh'], ['bash', '-il'], ['cat', '/etc/resolv.conf'], ['ps', 'aux'], ['env'], ['python3', 'manage.py', 'shell']];
const sessions: string[] = [];

function identity(user: string) {
  return {
    user,
    user_roles: bots.includes(user) ? ['ci'] : ['access', 'developers'],
    user_traits: { kubernetes_groups: ['developers'], logins: [user.split('@')[0]], team: ['platform'] },
    user_kind: bots.includes(user) ? 'local' : 'sso',
    cert_serial: hex(32),
    'addr.remote': `10.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}:${40000 + Math.floor(random() * 20000)}`,
    user_agent: 'kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9',
    kubernetes_users: [],
    kubernetes_groups: ['developers', 'system:authenticated'],
    proto: 'kube',
  };
}

function generate(time: Date): AuditEvent {
  const user = random() < 0.33 ? pick(bots) : pick(users);
  const cluster = pick(clusters);
  const namespace = pick(namespaces);
  const audit = uuid();
  const base = {
    time: time.toISOString(),
    audit_id: audit,
    kubernetes_cluster: cluster,
    kubernetes_labels: { env: cluster.split('-')[0] },
    ...identity(user),
  };
  const roll = random();
  if (roll < 0.9) {
    const resource = pick(resources);
    const name = random() < 0.5 ? `${resource.slice(0, -1)}-${hex(5)}` : undefined;
    const verb = pick(verbs);
    return {
      event: 'kube.request',
      code: 'T3009I',
      uid: audit,
      ...base,
      verb,
      request_path: `/api/v1/namespaces/${namespace}/${resource}${name ? `/${name}` : ''}`,
      resource_api_group: 'core/v1',
      resource_kind: resource,
      resource_namespace: namespace,
      ...(name ? { resource_name: name } : {}),
      response_code: random() < 0.95 ? (verb === 'POST' ? 201 : 200) : pick([403, 404, 409]),
    };
  }
  const sid = roll < 0.96 || sessions.length === 0 ? audit : pick(sessions.slice(-50));
  if (sid === audit) sessions.push(sid);
  const pod = { kubernetes_pod_namespace: namespace, kubernetes_pod_name: `web-${hex(5)}`, kubernetes_container_name: 'app' };
  if (roll < 0.94) return { event: 'exec', code: 'T3002I', uid: `${sid}/exec`, sid, ...base, ...pod, command: pick(commands), exitCode: 0 };
  if (roll < 0.96)
    return {
      event: 'session.start',
      code: 'T2000I',
      uid: `${sid}/start`,
      sid,
      ...base,
      ...pod,
      interactive: true,
      terminal_size: '120:40',
    };
  if (roll < 0.98)
    return { event: 'session.end', code: 'T2004I', uid: `${sid}/end`, sid, ...base, ...pod, session_bytes: Math.floor(random() * 1e6) };
  if (roll < 0.99) return { event: 'port', code: 'T3003I', uid: audit, ...base, ...pod, port: 8080 };
  return {
    event: 'user.login',
    code: 'T1000I',
    uid: hex(32),
    time: base.time,
    user,
    method: 'github',
    success: true,
    'addr.remote': base['addr.remote'],
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** What a finished generation leaves beside the store: the marker that it is complete. */
interface Generated {
  events: number;
  writeSeconds: number;
  generatedAt: string;
  /** The session ids the session search looks up (found while generating). */
  sessionIds: string[];
}

/** Names what the store holds: the generator, the table's indexes and how an event becomes an item. */
function generation(): string {
  const probe = auditItem(
    {
      event: 'exec',
      code: 'T3002I',
      time: now.toISOString(),
      uid: 'probe',
      user: 'u',
      sid: 's',
      kubernetes_cluster: 'c',
      kubernetes_pod_namespace: 'n',
    },
    { shardCount: 4, retentionDays: 365, now },
  );
  const layout = JSON.stringify([GENERATOR_VERSION, auditTableSchema, probe]);
  return `v${GENERATOR_VERSION}-${createHash('sha256').update(layout).digest('hex').slice(0, 10)}`;
}

function readMarker(path: string): Generated | undefined {
  if (!existsSync(path)) return undefined;
  const marker = JSON.parse(readFileSync(path, 'utf8')) as Generated;
  return marker.events === EVENTS && marker.sessionIds.length > 0 ? marker : undefined;
}

const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubeport');
const cacheName = `bench-audit-${EVENTS}-${generation()}`;
const dir = CACHED ? join(cacheRoot, cacheName) : mkdtempSync(join(tmpdir(), 'kubeport-bench-audit-'));
const markerPath = join(dir, 'complete.json');
let generated = CACHED ? readMarker(markerPath) : undefined;
const reused = generated !== undefined;
if (generated) {
  console.log(
    `audit search: reusing the ${EVENTS.toLocaleString('en')} events generated on ${generated.generatedAt} in ${dir} (BENCH_AUDIT_CACHE=off generates afresh)`,
  );
} else {
  if (CACHED) {
    // An interrupted generation, or one of an older generator or schema: neither is reused.
    rmSync(dir, { recursive: true, force: true });
    for (const stale of existsSync(cacheRoot) ? readdirSync(cacheRoot) : []) {
      if (stale.startsWith(`bench-audit-${EVENTS}-`) && stale !== cacheName)
        rmSync(join(cacheRoot, stale), { recursive: true, force: true });
    }
    mkdirSync(dir, { recursive: true });
  }
  const [fast, slow] = [1500, 1000].map((perSecond) => Math.max(1, Math.round(EVENTS / perSecond / 60)));
  console.log(
    `audit search: generating ${EVENTS.toLocaleString('en')} events once; this takes about ${fast === slow ? fast : `${fast} to ${slow}`} minutes on two shared cores. ` +
      (CACHED ? `Later runs reuse the store in ${dir}.` : 'BENCH_AUDIT_CACHE=off: the store is removed afterwards.'),
  );
}
const store = startChild('dynamo-process.ts', [join(dir, 'dynamodb')]);
try {
  const { socketPath } = await nextMessage<DynamoReady>(store, 'ready', 30_000);
  const client = makeDynamoClient({ socketPath, region: 'local' });
  const tables = tableNamesWithPrefix('bench-');
  await createTables(client, tables);
  const log = new DynamoAuditLog(client, tables.audit, { now: () => now });
  const start = now.getTime() - DAYS * DAY_MS;

  if (!generated) {
    // Events in time order over 30 days, WRITE_CHUNK per write(), WRITERS write()s at once.
    let next = 0;
    const began = performance.now();
    const benchCpu = process.cpuUsage();
    const storeCpu = processTreeCpuMicros(store.pid!);
    let written = 0;
    const writer = async () => {
      while (next < EVENTS) {
        const from = next;
        next = Math.min(EVENTS, next + WRITE_CHUNK);
        const chunk = Array.from({ length: next - from }, (_, i) =>
          generate(new Date(start + ((from + i) / EVENTS) * DAYS * DAY_MS + Math.floor(random() * 1000))),
        );
        await log.write(chunk);
        const before = written;
        written += chunk.length;
        if (Math.floor(written / 100_000) > Math.floor(before / 100_000)) {
          const seconds = (performance.now() - began) / 1000;
          console.log(
            `written ${written.toLocaleString('en')} events in ${seconds.toFixed(0)} s (${(written / seconds).toFixed(0)} events/s)`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, writer));
    const writeSeconds = (performance.now() - began) / 1000;
    const benchUsed = process.cpuUsage(benchCpu);
    const benchSeconds = (benchUsed.user + benchUsed.system) / 1e6;
    const storeSeconds = ((processTreeCpuMicros(store.pid!) ?? 0) - (storeCpu ?? 0)) / 1e6;
    console.log(
      `generated in ${writeSeconds.toFixed(0)} s: ${(EVENTS / writeSeconds).toFixed(0)} events/s through write() (${WRITERS} x ${WRITE_CHUNK} at once); ` +
        `CPU: bench ${benchSeconds.toFixed(0)} s, store ${storeSeconds.toFixed(0)} s`,
    );
    generated = {
      events: EVENTS,
      writeSeconds,
      generatedAt: new Date().toISOString(),
      sessionIds: Array.from({ length: SAMPLES }, (_, i) => sessions[(i * 997) % sessions.length]!),
    };
    // Last: only a store whose every write was acknowledged is marked complete.
    if (CACHED) writeFileSync(markerPath, JSON.stringify(generated));
  }
  const { sessionIds } = generated;

  const month = { from: new Date(start), to: now };
  const regular = users.slice(0, 297);
  const searches: [what: string, query: (i: number) => AuditQuery, pages?: number][] = [
    ['last hour, limit 50', () => ({ from: new Date(now.getTime() - 3_600_000), to: now, limit: 50 })],
    ['one user, 30 days (limit 100)', (i) => ({ ...month, user: regular[(i * 37) % regular.length]! })],
    ['one bot, 30 days (limit 100)', (i) => ({ ...month, user: bots[i % bots.length]! })],
    ['--type=exec, 30 days (limit 100)', () => ({ ...month, event: 'exec' })],
    ['--type=user.login, 30 days (limit 100)', () => ({ ...month, event: 'user.login' })],
    ['one session id, 30 days', (i) => ({ ...month, sessionId: sessionIds[i % sessionIds.length]! })],
    [
      'cluster + namespace, one day (limit 100)',
      (i) => ({ from: new Date(now.getTime() - DAY_MS), to: now, cluster: clusters[i % clusters.length]!, namespace: namespaces[i % 5]! }),
    ],
    [
      'cluster alone, one day (limit 100)',
      (i) => ({ from: new Date(now.getTime() - DAY_MS), to: now, cluster: clusters[i % clusters.length]! }),
    ],
    [
      'namespace + --type=kube.request, one day (limit 100)',
      (i) => ({
        from: new Date(now.getTime() - DAY_MS),
        to: now,
        namespace: namespaces[(i * 7) % namespaces.length]!,
        event: 'kube.request',
      }),
    ],
    ['three pages with the cursor, last day (limit 100)', () => ({ from: new Date(now.getTime() - DAY_MS), to: now, limit: 100 }), 3],
  ];
  console.log(`\nAudit search over ${EVENTS.toLocaleString('en')} events in ${DAYS} days (${SAMPLES} runs each; ms)`);
  console.log(
    `store ${reused ? 'reused; it was ' : ''}generated in ${generated.writeSeconds.toFixed(0)} s: ${(EVENTS / generated.writeSeconds).toFixed(0)} events/s through write()`,
  );
  const rows: string[][] = [['search', 'found', 'p50', 'p95', 'aim p95 < 1000']];
  for (const [what, query, pages = 1] of searches) {
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      let cursor: string | undefined;
      for (let page = 0; page < pages; page++) {
        const result = await log.search({ ...query(i), ...(cursor !== undefined ? { cursor } : {}) });
        found += result.events.length;
        cursor = result.cursor;
        if (cursor === undefined) break;
      }
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const p95 = percentile(times, 95);
    rows.push([what, (found / SAMPLES).toFixed(0), percentile(times, 50).toFixed(1), p95.toFixed(1), p95 < 1000 ? 'MET' : 'MISSED']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  console.log('  cluster + namespace: by_namespace, cluster filtered in the store; cluster alone: the day read and filtered');
  client.destroy();
} finally {
  await stopProcess(store, 'ipc');
  if (!CACHED) rmSync(dir, { recursive: true, force: true });
}
