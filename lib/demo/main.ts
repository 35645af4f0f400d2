// The demo clusters' process: `npm start -- --demo` forks it (bin/demo-cluster.ts) so that
// nothing a client sends a demo cluster can take Kubeport down with it. Usage, over IPC only:
// main.ts DATA_DIR; it writes DATA_DIR/demo-kubeconfig.yaml (a context per cluster) and then
// sends a DemoReady message. It stops on SIGTERM, and when its parent goes away however it dies
// (the IPC channel closes).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { demoClusters } from './demo-clusters.js';
import type { DemoReady } from './demo-ready.js';
import { startKubeApiServer } from './kube-apiserver.js';
import { writeKubeconfigForServers } from './kubeconfig.js';

const dataDir = process.argv[2];
if (!dataDir || !process.send) {
  process.stderr.write('demo cluster: run by npm start -- --demo, with the data directory as its argument\n');
  process.exit(2);
}

const servers = await Promise.all(demoClusters.map(async (def) => ({ def, server: await startKubeApiServer(def.options) })));
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const kubeconfig = await writeKubeconfigForServers(
  join(dataDir, 'demo-kubeconfig.yaml'),
  servers.map(({ def, server }) => ({ name: def.name, server: { url: server.url, ca: server.ca } })),
);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void Promise.all(servers.map(({ server }) => server.close())).finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
// Ctrl-C reaches the whole process group; the parent decides when the demo stops.
process.on('SIGINT', () => undefined);
process.on('disconnect', stop);
const clusters = servers.map(({ def, server }) => ({ name: def.name, url: server.url, labels: def.labels }));
process.send({ type: 'demo-ready', kubeconfig, clusters } satisfies DemoReady, undefined, {}, (error) => {
  if (error) stop();
});
