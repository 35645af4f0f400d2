// The agent's real audit path for tests: a BufferedAuditWriter with a file spool over the
// DynamoDB audit log of an embedded DynamoDB on a data directory, which a test can stop (the
// store unreachable) and start again on the same data.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoAuditLog } from '../../lib/adapters/aws/dynamo-audit-log.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { type EmbeddedStore, startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import { FileAuditSpool } from '../../lib/adapters/local/file-audit-spool.js';
import { systemClock, systemRandom, systemTimers } from '../../lib/adapters/system.js';
import type { AuditEvent, AuditLog } from '../../lib/core/ports.js';
import { BufferedAuditWriter, type BufferedAuditWriterOptions } from '../../lib/services/audit-writer.js';
import { scanAuditEvents } from './audit-table.js';

export interface AuditedStore {
  writer: BufferedAuditWriter;
  client: DynamoDBClient;
  /** Every event stored in the audit table (a scan). */
  stored(): Promise<AuditEvent[]>;
  /** The store stops answering (the writer spools). */
  stop(): Promise<void>;
  /** The store answers again, with its data. */
  start(): Promise<void>;
  /** The store takes writes but does not finish them (a store slower than the load) until release(). */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startAuditedStore(
  options: Partial<BufferedAuditWriterOptions> = {},
  dataDir?: string,
  spoolBounds?: { maxBytes: number; reserveBytes: number },
): Promise<AuditedStore> {
  const root = dataDir ?? mkdtempSync(join(tmpdir(), 'kubeport-audited-'));
  let dynamo: EmbeddedStore | undefined = await startEmbeddedDynamoDb({ dataDir: join(root, 'dynamodb') });
  // Asked at each connection: a restarted store listens on a fresh socket.
  const client = makeDynamoClient({ socketPath: () => dynamo?.socketPath ?? join(root, 'stopped.sock'), region: 'local' });
  const tables = tableNamesWithPrefix('audited-');
  await createTables(client, tables);
  const spoolDir = join(root, 'spool');
  const log = new DynamoAuditLog(client, tables.audit, systemClock);
  let held: { promise: Promise<void>; release: () => void } | undefined;
  const store: AuditLog = {
    emit: (event) => log.emit(event),
    write: async (events) => {
      await held?.promise;
      await log.write(events);
    },
    search: (query) => log.search(query),
  };
  const writer = new BufferedAuditWriter(
    {
      store,
      spool: await FileAuditSpool.open(spoolDir, { log: () => undefined, ...spoolBounds }),
      spoolLocation: spoolDir,
      clock: systemClock,
      random: systemRandom,
      timers: systemTimers,
      log: () => undefined,
    },
    { flushIntervalMs: 20, retryBaseMs: 10, retryMaxMs: 200, probeIntervalMs: 50, ...options },
  );
  return {
    writer,
    client,
    stored: () => scanAuditEvents(client, tables.audit),
    stop: async () => {
      const running = dynamo;
      dynamo = undefined;
      await running?.close();
    },
    hold: () => {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      held = { promise, release };
    },
    release: () => {
      held?.release();
      held = undefined;
    },
    start: async () => {
      dynamo = await startEmbeddedDynamoDb({ dataDir: join(root, 'dynamodb') });
    },
    close: async () => {
      await writer.close();
      client.destroy();
      await dynamo?.close();
      if (!dataDir) rmSync(root, { recursive: true, force: true });
    },
  };
}
