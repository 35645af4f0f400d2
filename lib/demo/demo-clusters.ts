// The clusters `npm start -- --demo` serves: two stand-ins with their own CA, namespaces and pods,
// labelled so that roles' kubernetes_labels and `tsh kube login` between clusters can be tried.
// Their watches and followed logs stay open until the user stops them, with news every few seconds.
import type { KubeApiServerOptions } from './types.js';

export interface DemoClusterDef {
  name: string;
  labels: Record<string, string>;
  options: KubeApiServerOptions;
}

const STREAM_INTERVAL_MS = 3_000;

// The cluster admins of the demo, and the default namespace for the 'devs' group of the README's examples.
const rbac = { 'system:masters': ['*'], devs: ['default'] };
const streams = { intervalMs: STREAM_INTERVAL_MS, durationMs: Infinity };
// Something to read, patch and apply in the README's walkthrough (kubectl get cm web-config -o yaml).
const configMaps = { default: [{ name: 'web-config', data: { greeting: 'hello', replicas: '2' }, labels: { app: 'web' } }] };
const web = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `web-${i}`, containers: ['web'], labels: { app: 'web' } }));

export const demoClusters: DemoClusterDef[] = [
  {
    name: 'demo-dev',
    labels: { env: 'dev' },
    options: { rbac, streams, namespaces: ['default', 'kube-system', 'dev'], pods: { default: web(2) }, configMaps },
  },
  {
    name: 'demo-prod',
    labels: { env: 'prod' },
    options: {
      rbac,
      streams,
      configMaps,
      namespaces: ['default', 'kube-system', 'prod'],
      pods: {
        default: web(3),
        prod: [
          { name: 'payments-0', containers: ['payments'], labels: { app: 'payments' } },
          { name: 'payments-1', containers: ['payments'], labels: { app: 'payments' } },
        ],
      },
    },
  },
];
