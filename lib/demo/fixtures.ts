// The objects the stand-in serves: namespaces and pods built from the options, each serialized
// once, and the events of those pods.
import { randomUUID } from 'node:crypto';
import { createEventStore } from './events.js';
import { containerPortSpec, defaultPodPorts } from './pod-network.js';
import { json, optional } from './replies.js';
import type { FakeFs } from './shell/fake-fs.js';
import type { KubeApiServerOptions, PodFixture } from './types.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** What lists, watches and Tables need of any object. */
export interface Listed {
  metadata: ObjectMeta;
}

export interface KubeObject extends Listed {
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
}

/** An object plus its single-object JSON, serialized once. */
export interface Stored {
  object: KubeObject;
  body: Buffer;
}

const store = (kind: string, object: KubeObject): Stored => ({ object, body: json({ kind, apiVersion: 'v1', ...object }) });
export const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const defaultPods: Record<string, PodFixture[]> = {
  default: [
    { name: 'web-0', containers: ['web'] },
    { name: 'web-1', containers: ['web'] },
  ],
};

export type Fixtures = ReturnType<typeof buildFixtures>;

export function buildFixtures(options: KubeApiServerOptions) {
  // Five minutes old, so AGE columns read "5m" and watch tests can use later timestamps.
  const created = rfc3339(Date.now() - 5 * 60_000);
  let resourceVersion = 100;
  const meta = (name: string, namespace?: string) => ({
    name,
    ...optional('namespace', namespace),
    uid: randomUUID(),
    resourceVersion: String(++resourceVersion),
    creationTimestamp: created,
  });

  const namespaces = new Map<string, Stored>();
  for (const name of options.namespaces ?? ['default', 'kube-system', 'prod']) {
    const object = {
      metadata: { ...meta(name), labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    namespaces.set(name, store('Namespace', object));
  }

  const pods = new Map<string, Stored[]>();
  let ip = 10;
  for (const [namespace, fixtures] of Object.entries(options.pods ?? defaultPods)) {
    const stored = fixtures.map((p) => {
      const containers = p.containers ?? ['main'];
      const phase = p.phase ?? 'Running';
      const metadata = { ...meta(p.name, namespace), ...optional('labels', p.labels), ...optional('annotations', p.annotations) };
      if (p.creationTimestamp) metadata.creationTimestamp = p.creationTimestamp;
      const started = metadata.creationTimestamp;
      const image = (name: string) => `example.test/${name}:1`;
      const ports = (p.ports ?? defaultPodPorts).map(containerPortSpec);
      const container = (name: string, i: number) => ({ name, image: image(name), ...(i === 0 && ports.length > 0 ? { ports } : {}) });
      return store('Pod', {
        metadata,
        spec: { containers: containers.map(container), nodeName: 'node-1' },
        status: {
          phase,
          podIP: `10.244.0.${ip++}`,
          startTime: started,
          containerStatuses: containers.map((name) => ({
            name,
            image: image(name),
            ready: phase === 'Running',
            restartCount: 0,
            state: phase === 'Running' ? { running: { startedAt: started } } : { terminated: { exitCode: 0 } },
          })),
        },
      });
    });
    pods.set(namespace, stored);
  }
  const events = createEventStore(pods, (name, namespace) => meta(name, namespace));
  // Each pod's files, made on its first exec and kept, so that kubectl cp can copy in and out again.
  const files = new Map<string, FakeFs>();
  return { namespaces, pods, events, files, resourceVersion: String(resourceVersion) };
}
