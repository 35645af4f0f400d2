// How one audit event is laid out as a DynamoDB item: the keys of the base table and of each
// index, the top-level attributes that searches filter on, and the event itself as JSON.
import { hash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AuditEvent } from '../../core/ports.js';

export interface AuditItem {
  pk: string;
  sk: string;
  expiresAt: number;
  /** The whole event, JSON. */
  event: string;
  event_type: string;
  user_pk?: string;
  type_pk: string;
  /** Only on events about a namespace: the namespace index is sparse. */
  namespace_pk?: string;
  sid?: string;
  user?: string;
  cluster?: string;
  namespace?: string;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export const dayOf = (date: Date) => date.toISOString().slice(0, 10);

export function shardOf(uid: string, shardCount: number): number {
  return hash('sha256', uid, 'buffer').readUInt32BE(0) % shardCount;
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** The namespace an event is about: the resource's, or the pod's for session events. */
export const eventNamespace = (event: AuditEvent) => text(event.resource_namespace) ?? text(event.kubernetes_pod_namespace);

// DynamoDB refuses items over 400 KB (names and values counted). The keys and filter attributes
// are small; the rest is the event's JSON, kept well under the limit.
const MAX_EVENT_JSON_BYTES = 350 * 1024;
// What identifies and indexes an event: never dropped, only cut short if absurdly long.
const KEPT_FIELDS = new Set(['event', 'code', 'time', 'uid', 'user', 'sid', 'success', 'kubernetes_cluster', 'audit_id']);
const KEPT_FIELD_CHARS = 1024;

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/** The JSON of the event as stored: the event's own, or that of fitEvent's cut when it is too large. */
export function storedEventJson(event: AuditEvent): { stored: AuditEvent; json: string } {
  const json = JSON.stringify(event);
  // A UTF-8 byte is at least one UTF-16 unit and at most three: most events are sized without counting.
  if (json.length * 3 <= MAX_EVENT_JSON_BYTES || Buffer.byteLength(json, 'utf8') <= MAX_EVENT_JSON_BYTES) return { stored: event, json };
  const stored = fitEvent(event);
  return { stored, json: JSON.stringify(stored) };
}

/**
 * An event that fits in one item: a huge one (a pasted command, enormous traits) loses its
 * largest fields, user_traits first, and says so (`truncated`, `truncated_fields`), so one event
 * cannot make a whole batch fail.
 */
export function fitEvent(event: AuditEvent): AuditEvent {
  if (jsonBytes(event) <= MAX_EVENT_JSON_BYTES) return event;
  const fitted: AuditEvent = { ...event, truncated: true };
  const dropped: string[] = [];
  const drop = (field: string) => {
    delete fitted[field];
    dropped.push(field);
  };
  if ('user_traits' in fitted) drop('user_traits');
  const droppable = Object.keys(fitted)
    .filter((field) => !KEPT_FIELDS.has(field) && field !== 'truncated')
    .sort((a, b) => jsonBytes(fitted[b]) - jsonBytes(fitted[a]));
  for (const field of droppable) {
    if (jsonBytes({ ...fitted, truncated_fields: dropped }) <= MAX_EVENT_JSON_BYTES) break;
    drop(field);
  }
  fitted.truncated_fields = dropped;
  if (jsonBytes(fitted) > MAX_EVENT_JSON_BYTES) {
    for (const field of KEPT_FIELDS) {
      const value = fitted[field];
      if (typeof value === 'string' && value.length > KEPT_FIELD_CHARS) fitted[field] = value.slice(0, KEPT_FIELD_CHARS);
    }
  }
  return fitted;
}

/** The event's own time, or (unparsable) `fallback`: the sort key must sort. */
export function eventTime(event: AuditEvent, fallback: Date): Date {
  const parsed = new Date(event.time);
  return Number.isNaN(parsed.getTime()) ? fallback : parsed;
}

export function sortKey(time: Date, uid: string): string {
  return `${time.toISOString()}#${uid}`;
}

/**
 * The item for `event`. Deterministic in (time, uid) and the event: writing the same event again
 * writes the same item, so replays and retries store it once. It expires `retentionDays` after
 * the event's own time.
 */
export function auditItem(event: AuditEvent, options: { shardCount: number; retentionDays: number; now: Date }): AuditItem {
  const time = eventTime(event, options.now);
  const day = dayOf(time);
  const shard = shardOf(event.uid, options.shardCount);
  const { stored, json } = storedEventJson(event);
  const item: AuditItem = {
    pk: `${day}#${shard}`,
    sk: sortKey(time, event.uid),
    expiresAt: Math.ceil(time.getTime() / 1000) + options.retentionDays * 86_400,
    event: json,
    event_type: event.event,
    type_pk: `${event.event}#${day}#${shard}`,
  };
  const user = text(stored.user);
  if (user !== undefined) {
    item.user = user;
    item.user_pk = `${user}#${day}#${shard}`;
  }
  const sid = text(stored.sid);
  if (sid !== undefined) item.sid = sid;
  const cluster = text(stored.kubernetes_cluster);
  if (cluster !== undefined) item.cluster = cluster;
  const namespace = eventNamespace(stored);
  if (namespace !== undefined) {
    item.namespace = namespace;
    item.namespace_pk = `${namespace}#${day}#${shard}`;
  }
  return item;
}

/**
 * The item in DynamoDB's own attribute-value form, built directly: the writes send these as they
 * are, without the document client's generic marshalling of every attribute (most of the CPU an
 * audited request cost the agent).
 */
export function itemAttributes(item: AuditItem): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {
    pk: { S: item.pk },
    sk: { S: item.sk },
    expiresAt: { N: String(item.expiresAt) },
    event: { S: item.event },
    event_type: { S: item.event_type },
    type_pk: { S: item.type_pk },
  };
  if (item.user_pk !== undefined) attributes.user_pk = { S: item.user_pk };
  if (item.namespace_pk !== undefined) attributes.namespace_pk = { S: item.namespace_pk };
  if (item.sid !== undefined) attributes.sid = { S: item.sid };
  if (item.user !== undefined) attributes.user = { S: item.user };
  if (item.cluster !== undefined) attributes.cluster = { S: item.cluster };
  if (item.namespace !== undefined) attributes.namespace = { S: item.namespace };
  return attributes;
}
