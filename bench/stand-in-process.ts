// Bench child: the Kubernetes API server stand-in in a process of its own, so that it does not
// share an event loop with the load generator or the agent. Every authenticated user may do
// everything (no rbac option); 'kubeport-agent' may impersonate. An optional first argument,
// JSON, holds stand-in options (e.g. streams that stay open and quiet, for idle watches).
import { startKubeApiServer } from '../lib/demo/kube-apiserver.js';
import type { KubeApiServerOptions } from '../lib/demo/types.js';
import { type StandInReady, sendToParent, serveCommands } from './ipc.js';

const options = (process.argv[2] ? JSON.parse(process.argv[2]) : {}) as KubeApiServerOptions;
// JSON has no Infinity: a duration of null or -1 means "until the client leaves".
if (options.streams && (options.streams.durationMs === null || options.streams.durationMs === -1)) options.streams.durationMs = Infinity;
const server = await startKubeApiServer(options);
const agentClient = await server.issueClientCert('kubeport-agent');
serveCommands(() => server.close());
await sendToParent({ type: 'ready', url: server.url, port: server.port, caPem: server.caPem, agentClient } satisfies StandInReady);
