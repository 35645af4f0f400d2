// The one message the demo cluster's process (main.ts) sends its parent (bin/demo-cluster.ts).

/** Child → parent, once the demo clusters listen and their kubeconfig is written. */
export interface DemoReady {
  type: 'demo-ready';
  /** One kubeconfig, a context per cluster, named as the cluster. */
  kubeconfig: string;
  clusters: Array<{ name: string; url: string; labels: Record<string, string> }>;
  /** The demo GitHub: where it is, the ready connector file, and the password its sign-in pages ask. */
  github: { url: string; connectorFile: string; password: string };
}

export function isDemoReady(message: unknown): message is DemoReady {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'demo-ready';
}
