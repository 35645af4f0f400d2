// The demo cluster's process: `npm start -- --demo` forks it (bin/demo-cluster.ts) so that
// nothing a client sends the demo cluster can take Kubeport down with it. Usage, over IPC only:
// main.ts DATA_DIR; it writes DATA_DIR/demo-kubeconfig.yaml and then sends a DemoReady message.
// It stops on SIGTERM, and when its parent goes away however it dies (the IPC channel closes).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoReady } from './demo-ready.js';
import { startKubeApiServer } from './kube-apiserver.js';

const dataDir = process.argv[2];
if (!dataDir || !process.send) {
  process.stderr.write('demo cluster: run by npm start -- --demo, with the data directory as its argument\n');
  process.exit(2);
}

// The cluster admins of the demo, and a namespace for the 'devs' group of the README's examples.
const server = await startKubeApiServer({ rbac: { 'system:masters': ['*'], devs: ['default'] } });
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const kubeconfig = join(dataDir, 'demo-kubeconfig.yaml');
await server.writeKubeconfig(kubeconfig, { contextName: 'demo' });

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void server.close().finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
// Ctrl-C reaches the whole process group; the parent decides when the demo stops.
process.on('SIGINT', () => undefined);
process.on('disconnect', stop);
process.send({ type: 'demo-ready', url: server.url, kubeconfig } satisfies DemoReady, undefined, {}, (error) => {
  if (error) stop();
});
