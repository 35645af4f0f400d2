// npm start --demo: the Kubernetes API stand-in that the tests use, served as a cluster named
// "demo", so Kubeport can be tried on a machine without any cluster. It answers discovery,
// namespaces, pods and whoami, and honours impersonation from Kubeport's agent only.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoCluster {
  kubeconfig: string;
  url: string;
  close(): Promise<void>;
}

export async function startDemoCluster(dataDir: string): Promise<DemoCluster> {
  const { startKubeApiServer } = await import('../test/support/kube-apiserver.js');
  const server = await startKubeApiServer({ rbac: { 'system:masters': ['*'], devs: ['default'] } });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const kubeconfig = join(dataDir, 'demo-kubeconfig.yaml');
  await server.writeKubeconfig(kubeconfig, { contextName: 'demo' });
  return { kubeconfig, url: server.url, close: () => server.close() };
}
