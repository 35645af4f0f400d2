// An AuditSink that writes each event straight to an audit log: for tests that read the agent's
// events back through the API (the buffered writer's batching is not what they test).
import type { AuditCounters, AuditEvent, AuditLog, AuditSink } from '../../lib/core/ports.js';

export class LogWritingSink implements AuditSink {
  readonly healthy = true;
  private written = 0;
  private dropped = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly log: AuditLog) {}

  submit(event: AuditEvent): void {
    const write = this.log.write([event]).then(
      () => void this.written++,
      () => void this.dropped++,
    );
    this.pending.add(write);
    void write.then(() => this.pending.delete(write));
  }

  counters(): AuditCounters {
    return { written: this.written, spooled: 0, dropped: this.dropped, pending: this.pending.size };
  }

  async flush(): Promise<void> {
    await Promise.all(this.pending);
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
