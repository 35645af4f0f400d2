// The one message the demo cluster's process (main.ts) sends its parent (bin/demo-cluster.ts).

/** Child → parent, once the demo cluster listens and its kubeconfig is written. */
export interface DemoReady {
  type: 'demo-ready';
  url: string;
  kubeconfig: string;
}

export function isDemoReady(message: unknown): message is DemoReady {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'demo-ready';
}
