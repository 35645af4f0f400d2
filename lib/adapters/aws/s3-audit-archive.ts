// The long-term audit archive: gzip JSON lines in S3 under date-partitioned keys, for Athena.
//
// Key: events/dt=YYYY-MM-DD/<first event time, compact>-<hash of the uids>.jsonl.gz. The key and
// the body depend only on the events (sorted by time, then uid), so a batch replayed after a crash
// overwrites its own object instead of doubling it. A batch that spans midnight becomes one object
// per day, so each lands in its own dt partition.
//
// Athena (the Glue table is defined with the deployment, issue 9) reads each line as one event
// with the JSON SerDe (org.openx.data.jsonserde.JsonSerDe), partitioned by dt (string,
// projection "date", format yyyy-MM-dd). Columns: event string, code string, time string (ISO
// 8601, UTC; from_iso8601_timestamp(time) for a timestamp), uid string, user string, success
// boolean, sid string, audit_id string, kubernetes_cluster string, verb string, request_path
// string, resource_api_group string, resource_kind string, resource_namespace string,
// resource_name string, response_code int, kubernetes_pod_namespace string, kubernetes_pod_name
// string, command array<string>, user_roles array<string>, kubernetes_users array<string>,
// kubernetes_groups array<string>, user_agent string, truncated boolean. Names with a dot
// (addr.remote) need the SerDe's mapping property ("mapping.addr_remote" = "addr.remote").
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditArchive, AuditEvent, Clock } from '../../core/ports.js';
import { dayOf, eventTime } from './audit-item.js';

export const ARCHIVE_PREFIX = 'events/';

/** 2030-03-10T09:15:00.123Z → 20300310T091500123Z: sorts like the time, no characters to escape. */
const compactTime = (time: Date) => time.toISOString().replace(/[-:.]/g, '');

/** The object one day's events are stored in: its key and its gzip body. */
export function archiveObject(events: AuditEvent[], clock: Clock): { key: string; body: Uint8Array } {
  const now = clock.now();
  const timed = events
    .map((event) => ({ event, time: eventTime(event, now) }))
    .sort((a, b) => a.time.getTime() - b.time.getTime() || (a.event.uid < b.event.uid ? -1 : a.event.uid > b.event.uid ? 1 : 0));
  const first = timed[0]!.time;
  const uids = createHash('sha256')
    .update(timed.map(({ event }) => event.uid).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const lines = timed.map(({ event }) => `${JSON.stringify(event)}\n`).join('');
  return { key: `${ARCHIVE_PREFIX}dt=${dayOf(first)}/${compactTime(first)}-${uids}.jsonl.gz`, body: gzipSync(lines) };
}

export class S3AuditArchive implements AuditArchive {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly clock: Clock,
  ) {}

  async append(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.clock.now();
    // The same (time, uid) is the same event, as in the audit log: stored once.
    const byDay = new Map<string, Map<string, AuditEvent>>();
    for (const event of events) {
      const time = eventTime(event, now);
      const day = dayOf(time);
      const dayEvents = byDay.get(day) ?? new Map<string, AuditEvent>();
      dayEvents.set(`${time.toISOString()}#${event.uid}`, event);
      byDay.set(day, dayEvents);
    }
    await Promise.all(
      [...byDay.values()].map(async (dayEvents) => {
        const { key, body } = archiveObject([...dayEvents.values()], this.clock);
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentType: 'application/x-ndjson',
            ContentEncoding: 'gzip',
          }),
        );
      }),
    );
  }
}
