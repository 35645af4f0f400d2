// Bench child: the Kubernetes API server stand-in in a process of its own, so that it does not
// share an event loop with the load generator or the agent. Every authenticated user may do
// everything (no rbac option); 'kubeport-agent' may impersonate.
import { startKubeApiServer } from '../lib/demo/kube-apiserver.js';
import { type StandInReady, sendToParent, serveCommands } from './ipc.js';

const server = await startKubeApiServer();
const agentClient = await server.issueClientCert('kubeport-agent');
serveCommands(() => server.close());
await sendToParent({ type: 'ready', url: server.url, port: server.port, caPem: server.caPem, agentClient } satisfies StandInReady);
