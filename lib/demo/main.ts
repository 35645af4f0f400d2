// The demo clusters' process: `npm start -- --demo` forks it (bin/demo-cluster.ts) so that
// nothing a client sends a demo cluster can take Kubeport down with it. Usage, over IPC only:
// main.ts DATA_DIR GITHUB_HOST:PORT API_URL; it writes DATA_DIR/demo-kubeconfig.yaml (a context
// per cluster), serves the demo GitHub (github/demo-github.ts) with its connector file
// DATA_DIR/demo-github-connector.yaml, and then sends a DemoReady message. It stops on SIGTERM, and when its parent goes away however it dies
// (the IPC channel closes).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { demoClusters } from './demo-clusters.js';
import type { DemoReady } from './demo-ready.js';
import { startDemoGitHub } from './github/demo-github.js';
import { startKubeApiServer } from './kube-apiserver.js';
import { writeKubeconfigForServers } from './kubeconfig.js';

const [dataDir, githubAddr, apiUrl] = process.argv.slice(2);
const githubAt = /^(.+):(\d+)$/.exec(githubAddr ?? '');
if (!dataDir || !githubAt || !apiUrl || !process.send) {
  process.stderr.write('demo cluster: run by npm start -- --demo, with DATA_DIR GITHUB_HOST:PORT API_URL as its arguments\n');
  process.exit(2);
}

const servers = await Promise.all(demoClusters.map(async (def) => ({ def, server: await startKubeApiServer(def.options) })));
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const kubeconfig = await writeKubeconfigForServers(
  join(dataDir, 'demo-kubeconfig.yaml'),
  servers.map(({ def, server }) => ({ name: def.name, server: { url: server.url, ca: server.ca } })),
);
const github = await startDemoGitHub({ dataDir, host: githubAt[1]!, port: Number(githubAt[2]), apiUrl }).catch((error: Error) => {
  process.stderr.write(`kubeport: ${error.message}\n`);
  process.exit(2);
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void Promise.all([...servers.map(({ server }) => server.close()), github.close()]).finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
// Ctrl-C reaches the whole process group; the parent decides when the demo stops.
process.on('SIGINT', () => undefined);
process.on('disconnect', stop);
const clusters = servers.map(({ def, server }) => ({ name: def.name, url: server.url, labels: def.labels }));
const githubReady = { url: github.url, connectorFile: github.connectorFile, password: github.password };
process.send({ type: 'demo-ready', kubeconfig, clusters, github: githubReady } satisfies DemoReady, undefined, {}, (error) => {
  if (error) stop();
});
