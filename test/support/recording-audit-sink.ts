// An AuditSink that keeps what it is given, for unit-level checks of what the agent submits
// (the real one, BufferedAuditWriter over dynalite, is for the tests of storage).
import type { AuditCounters, AuditEvent, AuditSink } from '../../lib/core/ports.js';

export class RecordingAuditSink implements AuditSink {
  readonly events: AuditEvent[] = [];
  healthy = true;
  flushes = 0;

  submit(event: AuditEvent): void {
    this.events.push(event);
  }

  counters(): AuditCounters {
    return { written: this.events.length, spooled: 0, dropped: 0, pending: 0 };
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  async close(): Promise<void> {}

  /** The events named `event` (kube.request, kube.discovery…). */
  named(event: string): AuditEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** The one event with this uid; throws when there is none or more than one. */
  byUid(uid: string): AuditEvent {
    const found = this.events.filter((e) => e.uid === uid);
    if (found.length !== 1) throw new Error(`${found.length} events with uid ${uid}`);
    return found[0]!;
  }
}
