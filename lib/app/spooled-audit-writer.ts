// The agent's audit writer, in local mode and on Fargate alike: events are batched to the audit
// log, copied to the archive, and spooled to the agent's own disk while either does not answer,
// so a request never waits for the store and an event the disk could hold is never lost.
import { join } from 'node:path';
import type { AuditArchive, AuditLog, Clock, Random } from '../core/ports.js';
import { FileAuditSpool } from '../adapters/local/file-audit-spool.js';
import { systemTimers } from '../adapters/system.js';
import { BufferedAuditWriter } from '../services/audit-writer.js';

export interface SpooledAuditWriterDeps {
  store: AuditLog;
  archive: AuditArchive;
  /** The spool's directory; archive objects wait in its `archive` subdirectory, apart from the store's. */
  spoolDir: string;
  clock: Clock;
  random: Random;
  log: (message: string) => void;
}

export interface SpooledAuditWriter {
  writer: BufferedAuditWriter;
  /** Writes what is held (to the store within `flushMs`, else to the spool), then closes the writer and its spools. */
  close(flushMs: number): Promise<void>;
}

export async function startSpooledAuditWriter(deps: SpooledAuditWriterDeps): Promise<SpooledAuditWriter> {
  const spool = await FileAuditSpool.open(deps.spoolDir, { log: deps.log });
  const archiveSpool = await FileAuditSpool.open(join(deps.spoolDir, 'archive'), { log: deps.log }).catch(async (error: unknown) => {
    await spool.close();
    throw error;
  });
  const writer = new BufferedAuditWriter({
    store: deps.store,
    spool,
    spoolLocation: deps.spoolDir,
    archive: deps.archive,
    archiveSpool,
    clock: deps.clock,
    random: deps.random,
    timers: systemTimers,
    log: deps.log,
  });
  return {
    writer,
    close: async (flushMs) => {
      await writer.flush(flushMs);
      await writer.close();
      await spool.close();
      await archiveSpool.close();
    },
  };
}
