// Core v1 Events: what the kubelet reported when each pod started, and, while someone watches,
// a new event every interval, as on a live cluster. Events a watch creates are kept (the latest
// MAX_KEPT per namespace), so a later `kubectl get events` lists them too.
import type { KubeObject, Listed, ObjectMeta } from './fixtures.js';
import { rfc3339 } from './fixtures.js';
import type { WatchSource } from './streams.js';
import { type Column, humanAge } from './tables.js';

export interface KubeEvent extends Listed {
  kind: 'Event';
  apiVersion: 'v1';
  involvedObject: { kind: string; namespace: string; name: string; uid: string; apiVersion: string; fieldPath?: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
}

const MAX_KEPT = 100;

type Happening = Pick<KubeEvent, 'type' | 'reason' | 'message'> & { fieldPath?: string; source?: string };

const startUp = (pod: KubeObject): Happening[] => {
  const container = (pod.spec.containers as Array<{ name: string; image: string }>)[0];
  const field = container && `spec.containers{${container.name}}`;
  return [
    {
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to node-1`,
      source: 'default-scheduler',
    },
    { type: 'Normal', reason: 'Pulled', message: `Container image "${container?.image}" already present on machine`, fieldPath: field },
    { type: 'Normal', reason: 'Created', message: `Created container ${container?.name}`, fieldPath: field },
    { type: 'Normal', reason: 'Started', message: `Started container ${container?.name}`, fieldPath: field },
  ];
};

// What a watch sees, in turn, pod after pod: a probe that fails now and then, and recovers.
const live = (pod: KubeObject): Happening[] => {
  const container = (pod.spec.containers as Array<{ name: string }>)[0]?.name ?? 'main';
  const fieldPath = `spec.containers{${container}}`;
  return [
    { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503', fieldPath },
    { type: 'Normal', reason: 'Pulled', message: `Container image already present on machine`, fieldPath },
    { type: 'Normal', reason: 'Ready', message: `Container ${container} is ready again`, fieldPath },
  ];
};

export function createEventStore(pods: Map<string, Array<{ object: KubeObject }>>, newMeta: (name: string, ns: string) => ObjectMeta) {
  const byNamespace = new Map<string, KubeEvent[]>();
  let sequence = Date.now() * 1000;

  function record(pod: KubeObject, what: Happening, at: string): KubeEvent {
    const namespace = pod.metadata.namespace ?? 'default';
    const event: KubeEvent = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { ...newMeta(`${pod.metadata.name}.${(sequence++).toString(16)}`, namespace), creationTimestamp: at },
      involvedObject: {
        kind: 'Pod',
        namespace,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
        apiVersion: 'v1',
        ...(what.fieldPath ? { fieldPath: what.fieldPath } : {}),
      },
      reason: what.reason,
      message: what.message,
      type: what.type,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
      source: what.source ? { component: what.source } : { component: 'kubelet', host: 'node-1' },
      reportingComponent: what.source ?? 'kubelet',
      reportingInstance: what.source ? '' : 'node-1',
    };
    const list = byNamespace.get(namespace) ?? [];
    list.push(event);
    if (list.length > MAX_KEPT) list.shift();
    byNamespace.set(namespace, list);
    return event;
  }

  for (const stored of [...pods.values()].flat()) {
    for (const what of startUp(stored.object)) record(stored.object, what, stored.object.metadata.creationTimestamp);
  }

  return {
    /** Events of one namespace, or of all when namespace is undefined. */
    list(namespace?: string): KubeEvent[] {
      return namespace === undefined ? [...byNamespace.values()].flat() : [...(byNamespace.get(namespace) ?? [])];
    },
    /** A watch's source: each tick, something new happens to one of the namespace's pods. */
    watch(namespace?: string): WatchSource<KubeEvent> {
      const watched = (namespace === undefined ? [...pods.values()].flat() : (pods.get(namespace) ?? [])).map((s) => s.object);
      return (tick) => {
        const pod = watched[(tick - 1) % Math.max(watched.length, 1)];
        if (!pod) return undefined;
        const happenings = live(pod);
        const round = Math.floor((tick - 1) / watched.length);
        return { type: 'ADDED', object: record(pod, happenings[round % happenings.length]!, rfc3339(Date.now())) };
      };
    },
  };
}

const since = (iso: string, now: number) => humanAge(iso, now);
// The columns the apiserver prints for events; kubectl shows priority 0 by default.
export const eventColumns: Column<KubeEvent>[] = [
  { name: 'Last Seen', cell: (e, now) => since(e.lastTimestamp, now) },
  { name: 'Type', cell: (e) => e.type },
  { name: 'Reason', cell: (e) => e.reason },
  { name: 'Object', cell: (e) => `${e.involvedObject.kind.toLowerCase()}/${e.involvedObject.name}` },
  { name: 'Subobject', priority: 1, cell: (e) => e.involvedObject.fieldPath ?? '' },
  { name: 'Source', priority: 1, cell: (e) => [e.source.component, e.source.host].filter(Boolean).join(', ') },
  { name: 'Message', cell: (e) => e.message },
  { name: 'First Seen', priority: 1, cell: (e, now) => since(e.firstTimestamp, now) },
  { name: 'Count', priority: 1, cell: (e) => String(e.count) },
  { name: 'Name', priority: 1, format: 'name', cell: (e) => e.metadata.name },
];
